# The two set-up commands of the README. Both create .venv when it is missing: `make demo`
# installs physioemo and what the demo runs, `make test` adds the `dev` extra (ray, mne-lsl,
# plotly, mne-bids, ... for the tests of the optional parts).
PYTHON ?= python3
VENV ?= .venv
# The CPU build of torch, installed before the project so its range (torch>=2.2) needs nothing more.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
# The demo's worker processes: every core by default.
JOBS ?= $(shell $(PYTHON) -c "import os; print(os.cpu_count() or 1)")
# Arousal keeps the demo under 3 minutes on 2 cores; DIMENSIONS="arousal valence" doubles it.
DIMENSIONS ?= arousal

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"

$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/physioemo bench --jobs $(JOBS) --dimensions $(DIMENSIONS)

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .

bench: $(VENV)/.dev
	for script in benchmarks/*.py; do $(BIN)/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
