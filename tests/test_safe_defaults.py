"""Safe defaults for a shared server: the Streamlit config, and no unsafe calls in the code."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("dashboard", "nwcore", "export") for p in (ROOT / d).rglob("*.py")]


def test_streamlit_config_limits_uploads_keeps_xsrf_and_sends_no_statistics():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert 0 < config["server"]["maxUploadSize"] <= 50  # MB
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks for participants


def test_no_raw_html_and_no_unpickling_in_the_code():
    assert SOURCES
    for path in SOURCES:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        assert not re.search(r"\bst\.html\(|components\.v1\.html", text), path
        assert not re.search(r"\bimport pickle\b|\bpickle\.loads?\(", text), path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)
