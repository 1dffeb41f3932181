"""Entry point: `streamlit run dashboard/app.py` (or `make run`). Sets up navigation only."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # pages import nwcore and dashboard from the repository root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
import torch  # noqa: E402

from dashboard import serving, urlstate  # noqa: E402
from dashboard.spec import Control  # noqa: E402
from dashboard.text import LANG_NAMES, LANGS, t  # noqa: E402

# One server runs many sessions' scripts at once: torch's intra-op threads would only compete
# with each other (and the small ops here gain nothing from a second thread).
if torch.get_num_threads() != 1:
    torch.set_num_threads(1)

st.set_page_config(layout="wide")
urlstate.remember_raw()  # before any widget: the link's values as given, for the page's notice
# The language comes first: every other string depends on it. `?lang=zh` in a link sets it.
lang_box = st.sidebar.container()
if urlstate.hidden("lang"):
    st.session_state["lang"] = urlstate.url_value(
        "lang", Control("lang", "select", "", "en", LANGS)
    )
else:
    lang_box.segmented_control(
        "Language / 语言",
        LANGS,
        default="en",
        required=True,
        key="lang",
        bind="query-params",
        disabled=urlstate.locked("lang"),
        help=" / ".join(f"{code}: {name}" for code, name in LANG_NAMES.items()),
    )
st.set_page_config(page_title=t("app_title"))

pages = [
    st.Page("pages_/pooling.py", title=t("page_pooling"), url_path="pooling", default=True),
    st.Page("pages_/scoring.py", title=t("page_scoring"), url_path="scoring"),
    st.Page("pages_/self_attention.py", title=t("page_mha"), url_path="self-attention"),
    st.Page("pages_/exercises.py", title=t("page_exercises"), url_path="exercises"),
]
page = st.navigation(pages)
with st.sidebar:
    st.caption(t("app_about"))
# tests/bench/clicks.py checks its click detector on reruns made this much slower, before the
# page draws and again after it (unset outside that check).
_BENCH_DELAY = float(os.environ.get("DASHBOARD_BENCH_DELAY_S", "0"))
time.sleep(_BENCH_DELAY)
with serving.script_slot():
    page.run()
time.sleep(_BENCH_DELAY)
serving.freeze_imports_once()  # class-capacity: see dashboard/serving.py
