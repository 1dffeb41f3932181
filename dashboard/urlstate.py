"""Workshop links: every control lives in the URL, and a link opened anywhere restores the view.

The widgets themselves sync with the URL (`bind="query-params"`: the widget key is the query
parameter, a default value is left out). This module adds what Streamlit does not do:

- it checks each page's raw query parameters *before* the widgets read them, says in one
  notice which values were not used and which defaults replaced them, and resets the
  widgets that Streamlit would have accepted anyway (out-of-range numbers, unparsable text);
- the facilitator's options, which are plain parameters shared by every page:
  `lang=en|zh`, `hide=w,heads` (controls not shown; they keep their URL or default value),
  `lock=dataset,seed` (controls shown but disabled);
- the link to copy (the page's URL with its parameters).

Per-user state: "_url_checked" (the query strings already checked, per page),
"_url_notice" (the notice for the page being shown) and "_url_resets" (values to restore).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.spec import Control, by_key, one_line
from dashboard.text import LANGS, plain, t

FACILITATOR = ("lang", "hide", "lock")
PAGE_PATHS = ("pooling", "scoring", "self-attention", "exercises")
DEFAULT_PAGE = "pooling"  # the app's default page: its address is the app's own ("/")
# Controls a facilitator may hide or lock, besides each page's own parameters.
EXTRA_CONTROLS = ("lang", "train", "export", "w_rules")


# --- facilitator options ------------------------------------------------------------------


def names(key: str) -> set[str]:
    """The control names in a comma-separated facilitator parameter (`hide`, `lock`)."""
    out: set[str] = set()
    for value in st.query_params.get_all(key):
        out |= {part.strip() for part in value.split(",") if part.strip()}
    return out


def hidden(key: str) -> bool:
    return key in names("hide")


def locked(key: str) -> bool:
    return key in names("lock")


def url_value(key: str, control: Control) -> Any:
    """The value the URL gives a control (its default when absent or invalid).

    For hidden controls: no widget is drawn, so the page reads its value here.
    """
    values = st.query_params.get_all(key)
    try:
        value = control.parse(values) if values else control.default
    except ValueError:
        value = control.default
    if value is None or isinstance(value, list):
        return value
    return control.native(value)


# --- checking a page's parameters ---------------------------------------------------------


def snapshot() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The URL's parameters as they came, before any widget (Streamlit drops invalid ones)."""
    return tuple(sorted((k, tuple(st.query_params.get_all(k))) for k in st.query_params))


def remember_raw() -> None:
    """Call first thing in the entry script: `check` reads this run's parameters from here."""
    keep_facilitator_options()
    st.session_state["_url_raw"] = snapshot()


def keep_facilitator_options() -> None:
    """`hide` and `lock` hold for the whole tab, also after a switch to another page.

    Streamlit's page navigation keeps only the parameters bound to widgets, so these plain
    ones are put back into the address (and so into every copied link) when they went missing.
    A new link (a new tab or a reload) starts a new session with its own options.
    """
    saved = st.session_state.setdefault("_facilitator", {})
    for key in ("hide", "lock"):
        values = st.query_params.get_all(key)
        if values:
            saved[key] = values
        elif saved.get(key):
            st.query_params[key] = saved[key]


def check(page: str, controls: Sequence[Control], known: Iterable[str] = ()) -> None:
    """Check the link's values against this page's controls before any widget reads them.

    Call at the top of the page. Only what came with the link is checked: a value that this
    session's own widget wrote (a typo in a box, a choice the link cannot carry) is the
    widget's business, not the link's. Values that are not allowed are listed in one notice
    (shown by `notice()`, until the next change on the page), and their widgets are put back
    to the default on the next run (see `finish()`). `known` are parameters of the other
    pages: ignored here without a word.
    """
    if st.session_state.get("_url_reset_ran"):
        return  # the run that puts defaults back: the notice of the run before still holds
    query = st.session_state.get("_url_raw") or snapshot()
    checked = st.session_state.setdefault("_url_checked", {})
    if checked.get(page) == query:
        return  # the same URL as the last run of this page: already said
    checked[page] = query
    table = by_key(controls)
    linked = {c.key for c in controls if c.in_url}
    names = {n for c in controls for n in c.names} | set(known) | set(EXTRA_CONTROLS)
    said = st.session_state.setdefault("_url_said", set())
    lines: list[str] = []
    resets: dict[str, Any] = {}
    for key, values in query:
        if (page, key, values) in said or (key in linked and key in st.session_state):
            continue  # already said, or written by this session's widget
        said.add((page, key, values))
        values = list(values)
        if key == "lang":
            if len(values) != 1 or values[0] not in LANGS:
                lines.append(_line(key, values, t("url_reason_choice", options="en, zh"), "en"))
        elif key in ("hide", "lock"):
            given = {n.strip() for v in values for n in v.split(",") if n.strip()}
            unknown = sorted(given - names)
            if unknown:
                lines.append(
                    t("url_unknown_controls", name=_code(key), names=plain(", ".join(unknown)))
                )
        elif key in linked:
            control = table[key]
            try:
                control.parse(values)
            except ValueError as exc:
                lines.append(_line(key, values, str(exc), control.show(control.default)))
                resets[key] = None if control.default is None else control.native(control.default)
        elif key not in names or key in table:  # not a setting, or one a link cannot carry
            lines.append(t("url_unknown", name=_code(key)))
    st.session_state["_url_notice"] = (page, lines)
    if resets:
        st.session_state["_url_resets"] = (page, resets)


def _code(name: str) -> str:
    """A name from the URL inside a code span (no backticks can close it early)."""
    return "`" + name.replace("`", "'")[:40] + "`"


def _line(key: str, values: list[str], reason: str, default: str) -> str:
    shown = one_line(repr(values[0] if len(values) == 1 else values))
    given = shown if len(shown) <= 60 else shown[:57] + "..."
    return t(
        "url_invalid_line",
        name=_code(key),
        value=plain(given),
        reason=plain(reason),
        default=plain(default),
    )


def apply_resets(page: str) -> None:
    """Put back the defaults decided by `check` on the previous run (before the widgets)."""
    pending = st.session_state.get("_url_resets")
    if (
        pending
        and pending[0] == page
        and pending[1] is not None
        and st.session_state.get("_url_reset_ran")
    ):
        for key, value in pending[1].items():
            if value is None:  # a default that the page works out (w: the data's start)
                st.session_state.pop(key, None)
            else:
                st.session_state[key] = value  # a bound widget then drops its parameter itself
            if key in st.query_params:  # a control not drawn now (hidden, or another mode)
                with contextlib.suppress(StreamlitAPIException):  # raised for bound ones
                    del st.query_params[key]
        st.session_state["_url_resets"] = None
        st.session_state["_url_reset_ran"] = False


def finish(page: str) -> None:
    """End of the page: if some URL values must be replaced by defaults, rerun once to do it.

    Streamlit seeds a bound widget from the URL on the first run whatever the page says, so
    the default can only be put back on a later run (it then also leaves the URL).
    """
    pending = st.session_state.get("_url_resets")
    if pending and pending[0] == page and pending[1] and not st.session_state.get("_url_reset_ran"):
        st.session_state["_url_reset_ran"] = True
        st.rerun()


@contextlib.contextmanager
def page_frame(
    page: str,
    specs: Sequence[Control],
    known: Iterable[str],
    title: str,
    intro: str,
    more: Callable[[], None] | None = None,
) -> Iterator[None]:
    """How every page runs: check the link, restore defaults, title, intro and the notice;
    then the page's body; then the link to copy, also when the body refused its inputs (the
    link is what the page shows). `more` draws what belongs between the intro and the notice.
    """
    check(page, specs, known=known)
    apply_resets(page)
    st.title(title)
    st.markdown(intro)
    if more is not None:
        more()
    notice(page)
    try:
        yield
    finally:
        share_box(page, [c.key for c in specs if c.in_url])


def notice(page: str) -> None:
    """The notice about URL values that were not used (it stays while the page is shown)."""
    saved = st.session_state.get("_url_notice")
    if saved and saved[0] == page and saved[1]:
        st.warning(t("url_notice_title") + "\n\n" + "\n".join(f"- {line}" for line in saved[1]))


# --- the link to copy ---------------------------------------------------------------------


def base_url() -> str:
    """The app's address as the browser sees it, without page or parameters."""
    url = None
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser context (tests): use the local default
        url = None
    if not url:
        return "http://localhost:8501/"
    parts = urlsplit(url)
    path = parts.path
    for page in PAGE_PATHS:
        if path.rstrip("/").endswith("/" + page) or path.rstrip("/") == page:
            path = path.rstrip("/")[: -len(page)]
            break
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def link(page_path: str, params: Mapping[str, Any]) -> str:
    """A full link to a page with these parameters (lists become repeated parameters).

    >>> link("scoring", {"sc_scorer": "dot"}).split("/")[-1]
    'scoring?sc_scorer=dot'
    >>> link("pooling", {"w": "3.16", "curves": ["average", "truth"]}).split("/")[-1]
    '?w=3.16&curves=average&curves=truth'
    """
    path = "" if page_path == DEFAULT_PAGE else page_path
    query = urlencode(
        [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    )
    return base_url() + path + (f"?{query}" if query else "")


def current_link(page_path: str, params: Iterable[str]) -> str:
    """This page's link as it stands: its own parameters and the facilitator's."""
    keep = set(params) | set(FACILITATOR) | {"train"}
    current = {k: st.query_params.get_all(k) for k in st.query_params if k in keep}
    return link(page_path, current)


def share_box(page_path: str, params: Iterable[str]) -> None:
    """The 'copy link' affordance: a sidebar button that opens the link in a code block (it
    has a copy button). In a popover, the code block's 1.5 MB highlighter script loads when
    someone opens it, not in every new participant's first render (~0.3 s of it on 2 cores,
    tests/bench/results/NOTES.md)."""
    with st.sidebar.popover(t("share_title"), icon=":material/link:", width="stretch"):
        st.code(current_link(page_path, params), language=None, wrap_lines=True)
        st.caption(t(f"share_caption_{page_path}"))
