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
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.text import LANGS, plain, t

FACILITATOR = ("lang", "hide", "lock")
PAGE_PATHS = ("pooling", "scoring", "self-attention", "exercises")
DEFAULT_PAGE = "pooling"  # the app's default page: its address is the app's own ("/")
# Controls a facilitator may hide or lock, besides each page's own parameters.
EXTRA_CONTROLS = ("lang", "train", "export")


@dataclass(frozen=True)
class Param:
    """One control's URL parameter: its default and how a raw URL value becomes a value.

    `parse` gets every value given for the key (usually one) and raises ValueError with a
    short reason when they are not allowed.
    """

    default: Any
    parse: Callable[[list[str]], Any]
    show: Callable[[Any], str] = str  # the default, as the notice prints it
    native: Callable[[Any], Any] = lambda v: v  # URL form -> the widget's value (e.g. int)


def _one(values: list[str]) -> str:
    if len(values) != 1:
        raise ValueError(t("url_reason_repeated"))
    return values[0]


def choice(
    options: Sequence[str],
    default: str,
    *,
    refused: Mapping[str, str] | None = None,
    native: Callable[[str], Any] = str,
) -> Param:
    """One of `options` (as they appear in the URL).

    >>> choice(["a", "b"], "a").parse(["b"])
    'b'
    """

    def parse(values: list[str]) -> str:
        value = _one(values)
        if refused and value in refused:
            raise ValueError(refused[value])
        if value not in options:
            raise ValueError(t("url_reason_choice", options=_listing(options)))
        return value

    return Param(default, parse, native=native)


def number(lo: float, hi: float, default: float, *, whole: bool = False) -> Param:
    """A finite number in [lo, hi] (a whole one when `whole`).

    >>> number(0, 3, 0.5).parse(["1.25"]), number(1, 8, 1, whole=True).parse(["4"])
    (1.25, 4)
    """

    def parse(values: list[str]) -> float | int:
        raw = _one(values)
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(t("url_reason_number")) from None
        if not math.isfinite(value):
            raise ValueError(t("url_reason_number"))
        if whole and value != int(value):
            raise ValueError(t("url_reason_whole"))
        if not lo <= value <= hi:
            raise ValueError(t("url_reason_range", lo=_num(lo), hi=_num(hi)))
        return int(value) if whole else value

    return Param(default, parse, _num)


def flag(default: bool) -> Param:
    """`true` or `false` (a toggle)."""

    def parse(values: list[str]) -> bool:
        value = _one(values).lower()
        if value not in ("true", "false"):
            raise ValueError(t("url_reason_flag"))
        return value == "true"

    return Param(default, parse, lambda v: str(v).lower())


def text(default: str, check: Callable[[str], object] | None = None) -> Param:
    """Free text; `check` raises (NWError/ValueError) when the page could not use it."""

    def parse(values: list[str]) -> str:
        value = _one(values)
        if check is not None:
            try:
                check(value)
            except ValueError as exc:  # NWError is a ValueError
                raise ValueError(str(exc)) from None
        return value

    return Param(default, parse, lambda v: repr(v) if v else "''")


def several(options: Sequence[str], default: Sequence[str]) -> Param:
    """Any number of `options`, given as repeated parameters (`?curves=a&curves=b`)."""

    def parse(values: list[str]) -> list[str]:
        bad = [v for v in values if v not in options]
        if bad or not values:
            raise ValueError(t("url_reason_choice", options=_listing(options)))
        return [o for o in options if o in values]

    return Param(list(default), parse, lambda v: ", ".join(v))


def _listing(options: Sequence[str]) -> str:
    """The allowed values, shortened when there are many (the w slider has 51).

    >>> _listing([str(i) for i in range(20)])
    '0, 1, 2, 3, ..., 19'
    """
    shown = list(options) if len(options) <= 8 else [*options[:4], "...", options[-1]]
    return ", ".join(shown)


def _num(value: float) -> str:
    return f"{value:g}"


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


def url_value(key: str, param: Param) -> Any:
    """The value the URL gives a control (its default when absent or invalid).

    For hidden controls: no widget is drawn, so the page reads its value here.
    """
    values = st.query_params.get_all(key)
    if not values:
        return param.native(param.default)
    try:
        return param.native(param.parse(values))
    except ValueError:
        return param.native(param.default)


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


def check(page: str, params: Mapping[str, Param], known: Iterable[str] = ()) -> None:
    """Check the URL against this page's parameters before any widget reads it.

    Call at the top of the page. Values that are not allowed are listed in one notice (shown
    by `notice()`), and their widgets are put back to the default on the next run (see
    `finish()`). `known` are parameters of the other pages: ignored here without a word.
    """
    if st.session_state.get("_url_reset_ran"):
        return  # the run that puts defaults back: the notice of the run before still holds
    query = st.session_state.get("_url_raw") or snapshot()
    checked = st.session_state.setdefault("_url_checked", {})
    if checked.get(page) == query:
        return  # the same URL as the last run of this page: already said
    checked[page] = query
    controls = set(params) | set(known) | set(EXTRA_CONTROLS)
    lines: list[str] = []
    resets: dict[str, Any] = {}
    for key, values in query:
        values = list(values)
        if key == "lang":
            if len(values) != 1 or values[0] not in LANGS:
                lines.append(_line(key, values, t("url_reason_choice", options="en, zh"), "en"))
        elif key in ("hide", "lock"):
            given = {n.strip() for v in values for n in v.split(",") if n.strip()}
            unknown = sorted(given - controls)
            if unknown:
                lines.append(
                    t("url_unknown_controls", name=_code(key), names=plain(", ".join(unknown)))
                )
        elif key in params:
            try:
                params[key].parse(values)
            except ValueError as exc:
                default = params[key].default
                lines.append(_line(key, values, str(exc), params[key].show(default)))
                resets[key] = params[key].native(default)
        elif key not in controls:
            lines.append(t("url_unknown", name=_code(key)))
    st.session_state["_url_notice"] = (page, lines)
    if resets:
        st.session_state["_url_resets"] = (page, resets)


def _code(name: str) -> str:
    """A name from the URL inside a code span (no backticks can close it early)."""
    return "`" + name.replace("`", "'")[:40] + "`"


def _line(key: str, values: list[str], reason: str, default: str) -> str:
    shown = values[0] if len(values) == 1 else values
    given = shown if len(str(shown)) <= 60 else str(shown)[:57] + "..."
    return t(
        "url_invalid_line",
        name=_code(key),
        value=plain(repr(given)),
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
    specs: Mapping[str, Param],
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
        share_box(page, specs)


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
    """The 'copy link' affordance: a code block (it has a copy button) in the sidebar."""
    with st.sidebar:
        st.markdown(f"**{t('share_title')}**")
        st.code(current_link(page_path, params), language=None, wrap_lines=True)
        st.caption(t("share_caption"))
