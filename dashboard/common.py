"""Shared page plumbing: the error guard, small session-state helpers, number formatting."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import streamlit as st

import nwcore
from dashboard.chart_data import arrow_spec
from dashboard.text import plain, t

log = logging.getLogger("dashboard")


def run_page(body: Callable[[], None]) -> None:
    """Run a page body; bad input becomes st.error, anything else a friendly message.

    Streamlit's own control flow (st.stop, st.rerun) derives from BaseException and passes.
    """
    try:
        body()
    except nwcore.NWError as exc:
        show_error(exc)
    except Exception:  # noqa: BLE001 - the page must never show a traceback
        log.exception("dashboard page failed")
        st.error(t("unexpected_error"))


def show_error(exc: BaseException | str) -> None:
    """An error whose text may carry user input (column names, cells): shown literally."""
    st.error(plain(exc))


def show_chart(spec: dict, where: Any = None, **kwargs: Any) -> Any:
    """st.vega_lite_chart (or `where`'s, a placeholder) with the spec's frames as Arrow tables."""
    return (st if where is None else where).vega_lite_chart(spec=arrow_spec(spec), **kwargs)


def init_state(key: str, value: Any) -> None:
    """Initialise a per-user session value once."""
    if key not in st.session_state:
        st.session_state[key] = value


def remember(store_key: str, key: Any, value: Any, keep: int = 3) -> None:
    """Keep at most `keep` recent (key, value) pairs in a session list: small per-user state."""
    items = [(k, v) for k, v in st.session_state.get(store_key, []) if k != key]
    items.append((key, value))
    st.session_state[store_key] = items[-keep:]


def recall(store_key: str, key: Any) -> Any:
    for k, v in st.session_state.get(store_key, []):
        if k == key:
            return v
    return None


def fmt(value: float, digits: int = 3) -> str:
    """A number for people: 3 significant digits, 'inf' spelled out.

    >>> fmt(0.123456), fmt(1e9), fmt(math.inf)
    ('0.123', '1e+09', 'inf')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"
