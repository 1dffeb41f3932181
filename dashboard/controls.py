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
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from dashboard import urlstate
from dashboard.spec import Control
from dashboard.text import plain, t

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


def _widget(c: Control) -> Any:
    """The widget for one control; returns its value (the widget's own type)."""
    common: dict[str, Any] = {
        "key": c.key,
        "help": t(c.help) if c.help else None,
        "disabled": locked(c),
        **(IN_URL if c.in_url else KEEP),
        **c.widget,
    }
    label = t(c.label)
    native = [c.native(o) for o in c.options]
    default = c.native(c.default) if c.default is not None else None
    if c.kind == "select":
        return st.selectbox(label, native, index=native.index(default), **common)
    if c.kind == "radio":
        captions = [t(c.captions + o) for o in c.options] if c.captions else None
        index = native.index(default) if default is not None else None
        return st.radio(label, native, index=index, captions=captions, **common)
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
