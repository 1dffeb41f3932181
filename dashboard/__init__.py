"""The Streamlit dashboard: entry point app.py, pages in pages_/, shared helpers here."""
