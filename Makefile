PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: tour test test-slow test-gpu bench coverage examples clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,fast]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

tour: $(VENV)/.installed
	$(BIN)/python -m frechet tour

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 -m slow

$(VENV)/.installed-gpu: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,fast,gpu]'
	touch $@

# CuPy: the back-end tables resolve (without a GPU too); the op-record table on CuPy arrays
# and on torch CUDA tensors on a GPU (skipped without one).
test-gpu: $(VENV)/.installed-gpu
	$(BIN)/python -m pytest -q tests/test_backend_cupy.py tests/test_backend_torch_cuda.py

coverage: $(VENV)/.installed
	$(BIN)/python -m frechet coverage

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench,fast]'
	touch $@

# The whole suite against the installed peers; writes bench/results.md and bench/results.png.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m frechet bench

# Every example at small size (tests/test_examples.py runs the same list); pictures, when
# matplotlib is installed, go to build/examples/.
EXAMPLES := examples/ridge_hypergradient.py examples/weight_decay_logistic.py \
	examples/lasso_jacobian.py examples/unroll_memory.py \
	examples/stackelberg_tolls.py \
	examples/multilevel_hpo.py examples/meta_weight_net.py \
	examples/imaml_sinusoid.py examples/nlls_preconditioner.py \
	examples/pyepo_shortest_path.py examples/pyepo_knapsack.py \
	examples/dask_logistic.py examples/torch_tensors.py

examples: $(VENV)/.installed-test
	mkdir -p build/examples
	@for f in $(EXAMPLES); do \
		echo "== $$f"; \
		FRECHET_EXAMPLE_SMALL=1 $(BIN)/python $$f --png-dir build/examples || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info
