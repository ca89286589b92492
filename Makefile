# `make demo` and `make test` work on a fresh machine with only Python: each sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench fuzz results soak scaling threads clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --editable '.[train]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/backprop train

# One BLAS thread for tests: on a busy 2-core machine two OpenBLAS threads per process slow
# small products a hundredfold, and no test measures speed.
test: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest tests src

# Nightly-size fuzzing: 20,000 mutated checkpoints and 2,000 random graphs (the suite runs
# 1,200 and 200).
fuzz: $(VENV)/.installed-dev
	BACKPROP_FUZZ_CASES=20000 BACKPROP_FUZZ_EXAMPLES=2000 OPENBLAS_NUM_THREADS=1 \
		$(BIN)/python -m pytest tests/test_load_fuzz.py tests/test_graph_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.ops
	$(BIN)/python -m benchmarks.cost_curves --busy
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks.checkpointing --rounds 9 --out benchmarks/checkpointing_results.md
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks.autocast

# Long runs stay flat: RSS, live graph objects and step time over 20,000 W1 / 2,000 W4 steps.
soak: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks.soak

# The applications' headline figures (GAN, super-resolution, vision, language, tuning).
results: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks.applications

# Data-parallel scaling: W1 and W3 on 1 and 2 MPI processes, with the all-reduce time (each
# configuration sets its own BLAS thread count).
scaling: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.distributed

# The command's thread policy against 1 and 2 BLAS threads, quiet and with one core busy
# (`yes` started and stopped by the script); writes benchmarks/threads_results.md.
threads: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.threads
