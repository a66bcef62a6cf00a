# Set-up is automatic: the first target run creates .venv and installs the package.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test test-all lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(VENV)/.installed  ## fine-tune scratch-small on the embedded AG News sample, print test accuracy
	$(PY) -m tfx_textzoo.demo

test: $(VENV)/.installed  ## lint + doctests + the test suite (slow tests excluded)
	$(PY) -m ruff check tfx_textzoo tests scripts benchmarks
	TEXTZOO_OFFLINE=1 $(PY) -m pytest -q -p no:cacheprovider --doctest-modules tfx_textzoo
	$(PY) -m pytest -q -m "not slow"

test-all: $(VENV)/.installed
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
