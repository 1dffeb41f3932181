"""Placeholder until the dashboard lands."""

import streamlit as st

st.title("Attention pooling lab")
st.write("The dashboard is being built.")
