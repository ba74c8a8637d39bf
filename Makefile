# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# PyTorch is an oracle for the tests (compared against where installed, skipped otherwise);
# install it only where its CPU wheel is on local disk, never a multi-GB download.
TORCH_WHEEL := $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl)

.PHONY: demo test lint bench install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	# Optional oracles: tests compare against them where installed and skip otherwise.
	-$(PY) -m pip install --quiet autograd
ifneq ($(TORCH_WHEEL),)
	-$(PY) -m pip install --quiet torch==2.13.0
endif
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/mlp_digits.py

test: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	# Optional baseline: the benchmarks time JAX where installed and skip it otherwise.
	-$(PY) -m pip install --quiet jax
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
