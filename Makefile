# Each target calls one tool. `make run` and `make test` set up .venv by themselves;
# a second run reinstalls nothing unless a requirements file changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
OUT ?= build/model

.PHONY: run test lint bench export load clean

$(VENV)/.run-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-installed
	$(PY) -m streamlit run dashboard/app.py --server.port $(PORT)

test: $(VENV)/.dev-installed
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(VENV)/.dev-installed
	$(PY) -m tests.bench

export: $(VENV)/.run-installed
	$(PY) -m export --out $(OUT)

clean:
	rm -rf $(VENV) build

load: $(VENV)/.dev-installed
	$(PY) -m tests.load --think 0
	$(PY) -m tests.load --think 3
