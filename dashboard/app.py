"""Entry point: `streamlit run dashboard/app.py` (or `make run`). Sets up navigation only."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # pages import nwcore and dashboard from the repository root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.text import t  # noqa: E402

st.set_page_config(page_title=t("app_title"), layout="wide")

pages = [
    st.Page("pages_/pooling.py", title=t("page_pooling"), url_path="pooling", default=True),
    st.Page("pages_/scoring.py", title=t("page_scoring"), url_path="scoring"),
    st.Page("pages_/self_attention.py", title=t("page_mha"), url_path="self-attention"),
]
page = st.navigation(pages)
with st.sidebar:
    st.caption(t("app_about"))
page.run()
