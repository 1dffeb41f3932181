# Each target calls one tool. `make run` and `make test` set up .venv by themselves;
# a second run reinstalls nothing unless a requirements file changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
OUT ?= build/model
N ?= 4
LOAD ?=

.PHONY: run class test lint bench export load clean

$(VENV)/.run-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-installed
	$(PY) -m streamlit run dashboard/app.py --server.port $(PORT)

# A class: N dashboard processes behind HAProxy (sticky sessions) on one port; see WORKSHOP.md.
class: $(VENV)/.run-installed
	$(PY) -m tests.load.cluster --processes $(N) --port $(PORT)

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

# LOAD="--sessions 100 --processes 4" (or --url http://host:8501/) changes what is driven.
load: $(VENV)/.dev-installed
	$(PY) -m tests.load --think 0 $(LOAD)
	$(PY) -m tests.load --think 3 $(LOAD)
