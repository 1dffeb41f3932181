"""The click bench's floor: the least a Streamlit page with a sidebar choice and one Vega
chart costs on this machine (`streamlit run tests/bench/floor_app.py`). Not part of the lab.

Same widget kind and key as the pooling page's Kernel control, one canvas chart of 50 points
whose data follow the choice: what any Streamlit app pays per click and per new session.
"""

import numpy as np
import pandas as pd
import streamlit as st

kernel = st.sidebar.selectbox("Kernel", ["gaussian", "epanechnikov"], key="kernel")
x = np.linspace(0, 5, 50)
y = np.exp(-0.5 * (x - 2.5) ** 2) if kernel == "gaussian" else np.clip(1 - (x - 2.5) ** 2, 0, 1)
spec = {
    "mark": "line",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
    },
    "usermeta": {"embedOptions": {"renderer": "canvas"}},
}
st.vega_lite_chart(pd.DataFrame({"x": x, "y": y}), spec, width="stretch")
