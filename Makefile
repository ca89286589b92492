# `make demo` and `make test` work on a fresh machine with only Python: each sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --editable '.[train]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/backprop train

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests src

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks
