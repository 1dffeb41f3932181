"""Draw a page's controls from their declarations (dashboard.params) in one call.

`draw(controls)` draws each widget in the current container (or, when the facilitator hid
it, reads its value from the link), disables the locked ones, and checks typed text where
it was typed: a box whose text the page cannot use gets its error right under it, keeps the
text, and its value is None (the page then says nothing more about it). Link values are
checked by dashboard.urlstate before any widget, never here.

>>> Values({"kernel": "boxcar"}).kernel
'boxcar'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from dashboard import urlstate
from dashboard.spec import Control
from dashboard.text import current_lang, plain, t

KEEP = {"persist_state": "session"}  # values survive a visit to another page
IN_URL = {**KEEP, "bind": "query-params"}  # ... and live in the address (the key is the name)


class Values(dict):
    """The controls' values by key, also as attributes; `errors` for typed text refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def hidden(control: Control) -> bool:
    return any(urlstate.hidden(name) for name in control.names)


def locked(control: Control) -> bool:
    return any(urlstate.locked(name) for name in control.names)


def draw(
    controls: Sequence[Control],
    *keys: str,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> Values:
    """Draw `keys` of `controls` (all of them when none are named), in that order.

    `changes` adjusts a declaration for this run, e.g. `{"sc_valid_len": {"hi": 4}}` (a range
    that depends on the data) or `{"sc_hidden": {"widget": {"disabled": True}}}`.
    """
    table = {c.key: c for c in controls}
    out = Values()
    for key in keys or tuple(table):
        control = table[key]
        if changes and key in changes:
            control = dataclasses.replace(control, **changes[key])
        if hidden(control):
            value = urlstate.url_value(key, control)
        elif _synced_here(control):
            _from_link(control)
            value = _widget(control)
            _to_link(control, value)
        else:
            value = _widget(control)
        if control.check is not None and isinstance(value, str):
            try:
                value = control.check(value)
            except ValueError as exc:  # NWError is a ValueError
                out.errors[key] = str(exc)
                value = None
                if not hidden(control):
                    st.error(plain(exc))  # under its own box; the typed text stays
        out[key] = value
    return out


def _synced_here(c: Control) -> bool:
    """Streamlit binds a widget to the URL by the text it shows, and a labelled option's text
    changes with the language: such a control keeps its option in the link and syncs here."""
    return c.in_url and bool(c.labels)


def _from_link(c: Control) -> None:
    """The link's value, the first time this session draws the control (urlstate's notice
    has already said when it is not a valid one)."""
    values = st.query_params.get_all(c.key)
    if c.key in st.session_state or not values:
        return
    try:
        value = c.parse(values)
    except ValueError:
        return
    st.session_state[c.key] = value if isinstance(value, list) else c.native(value)


def _to_link(c: Control, value: Any) -> None:
    """The widget's value into the address as the link writes it; a default is left out."""
    chosen = value if isinstance(value, list | tuple) else [value]
    link = [o for o in c.options if c.native(o) in chosen]  # in the options' order
    default = c.default if isinstance(c.default, list) else [c.default]
    if value is None or link == [str(d) for d in default]:
        if c.key in st.query_params:
            del st.query_params[c.key]
    elif st.query_params.get_all(c.key) != link:
        st.query_params[c.key] = link if isinstance(value, list | tuple) else link[0]


def _option_text(c: Control) -> Callable[[Any], str]:
    """How an option shows: its label's text, in this run's language (fixed now, as Streamlit
    may call it later, outside the run)."""
    lang = current_lang()
    return lambda value: t(c.labels[str(value)], lang)


def _widget(c: Control) -> Any:
    """The widget for one control; returns its value (the widget's own type)."""
    common: dict[str, Any] = {
        "key": c.key,
        "help": t(c.help) if c.help else None,
        "disabled": locked(c),
        **(IN_URL if c.in_url and not _synced_here(c) else KEEP),
        **({"format_func": _option_text(c)} if c.labels else {}),
        **c.widget,
    }
    label = t(c.label)
    native = [c.native(o) for o in c.options]
    default = c.native(c.default) if c.default is not None else None
    if c.kind == "select":
        return st.selectbox(label, native, index=native.index(default), **common)
    if c.kind == "radio":
        index = native.index(default) if default is not None else None
        return st.radio(label, native, index=index, **common)
    if c.kind == "select_slider":
        return st.select_slider(label, options=native, value=default, **common)
    if c.kind == "slider":
        lo, hi = (int(c.lo), int(c.hi)) if c.whole else (c.lo, c.hi)
        step = int(c.step) if c.whole and c.step else c.step
        return st.slider(label, lo, hi, value=default, step=step, **common)
    if c.kind == "number":
        return st.number_input(
            label, min_value=int(c.lo), max_value=int(c.hi), value=default, step=1, **common
        )
    if c.kind == "toggle":
        return st.toggle(label, value=default, **common)
    if c.kind == "pills":
        return st.pills(label, native, selection_mode="multi", default=default, **common)
    placeholder = t(c.placeholder) if c.placeholder else None
    if c.kind == "text_area":
        return st.text_area(label, value=default, placeholder=placeholder, **common)
    return st.text_input(label, value=default, placeholder=placeholder, **common)
