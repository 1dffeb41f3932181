"""CSV upload for page 1: the uploader, column pickers and the keep-what-you-had policy.

nwcore.load_csv does the checking; this module decides what the session keeps. Per-user state
(session_state): "csv_loaded" (the last accepted file: key, sampled data, name, row count),
"csv_columns" (the numeric columns of the current upload, or why it was refused) and
"last_data" (what the page showed last, set by the page on every run).
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

import nwcore
from dashboard import compute
from dashboard.text import plain, t


def _fallback_data() -> tuple[tuple, nwcore.Dataset]:
    """What the session showed last (or the classic data on a first visit)."""
    last = st.session_state.get("last_data")
    if last is not None:
        return last
    classic = nwcore.DATASETS["classic"]
    data = compute.synthetic("classic", classic.n_train, classic.noise, nwcore.DEFAULT_SEED)
    return ("synthetic", "classic", classic.n_train, classic.noise, nwcore.DEFAULT_SEED), data


def _csv_columns(sha: str, raw: bytes) -> list[str] | str:
    """Numeric column names of an upload, or the reason it was refused (kept per session)."""
    cached = st.session_state.get("csv_columns")
    if cached and cached[0] == sha:
        return cached[1]
    try:
        with st.spinner():
            cols = nwcore.csv_columns(raw)
        result: list[str] | str = cols if len(cols) >= 2 else t("csv_no_columns", count=len(cols))
    except nwcore.NWError as exc:
        result = str(exc)
    st.session_state["csv_columns"] = (sha, result)
    return result


def _refuse(notices: Any, reason: str) -> tuple[tuple, nwcore.Dataset]:
    key, data = _fallback_data()
    notices.error(plain(t("csv_refused", reason=reason)))
    notices.info(plain(t("csv_kept", previous=data.description)))
    return key, data


def csv_data(notices: Any) -> tuple[tuple, nwcore.Dataset]:
    """The uploader and x/y pickers (call inside the sidebar); returns (data key, data).

    Messages go to `notices` (a container in the main area). A refused file leaves the
    session's previous data in place, and the page says so.
    """
    upload = st.file_uploader(
        t("csv_upload"), type=["csv", "txt", "tsv"], key="csv_file", help=t("csv_upload_help")
    )
    loaded = st.session_state.get("csv_loaded")
    if upload is None:
        if loaded is not None:
            st.caption(
                plain(t("csv_loaded", name=loaded["name"], description=loaded["data"].description))
            )
            return loaded["key"], loaded["data"]
        key, data = _fallback_data()
        notices.info(plain(t("csv_waiting", previous=data.description)))
        return key, data
    raw = upload.getvalue()
    sha = hashlib.sha256(raw).hexdigest()[:20]
    cols = _csv_columns(sha, raw)
    if isinstance(cols, str):
        return _refuse(notices, cols)
    if st.session_state.get("csv_sha") != sha:  # a new file: default to its first two columns
        st.session_state["csv_sha"] = sha
        st.session_state["csv_x"], st.session_state["csv_y"] = cols[0], cols[1]
    x_col = st.selectbox(t("csv_x"), cols, key="csv_x")
    y_col = st.selectbox(t("csv_y"), cols, key="csv_y")
    key = ("csv", sha, x_col, y_col)
    if loaded is None or loaded["key"] != key:
        try:
            with st.spinner():
                full = nwcore.load_csv(raw, x_col, y_col)
        except nwcore.NWError as exc:
            return _refuse(notices, str(exc))
        data = compute.sample_rows(full)
        loaded = {"key": key, "data": data, "name": upload.name, "rows": full.n_train}
        st.session_state["csv_loaded"] = loaded
    if loaded["rows"] > loaded["data"].n_train:
        notices.info(t("csv_sampled", n=loaded["rows"], m=loaded["data"].n_train))
    st.caption(plain(t("csv_loaded", name=loaded["name"], description=loaded["data"].description)))
    return loaded["key"], loaded["data"]
