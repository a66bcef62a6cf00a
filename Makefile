# Set-up is automatic: the first target run creates .venv and installs the package.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Tests run in parallel processes (pytest-xdist), one per core up to 4: on 2 cores the
# suite takes 29 min instead of about 50 (TensorFlow's small-model steps use one core).
XDIST  ?= -n auto --maxprocesses 4

.PHONY: demo test test-slow test-all docs check-site clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(VENV)/.installed  ## textzoo train: scratch-small on the embedded AG News sample, print the report
	$(VENV)/bin/textzoo train scratch-small --dataset ag_news-sample --output runs/demo --overwrite

test: $(VENV)/.installed  ## lint + doctests + the test suite (slow tests excluded)
	$(PY) -m ruff check tfx_textzoo tests scripts benchmarks docs
	TEXTZOO_OFFLINE=1 $(PY) -m pytest -q -p no:cacheprovider $(XDIST) --doctest-modules tfx_textzoo
	$(PY) -m pytest -q $(XDIST) -m "not slow"

test-slow: $(VENV)/.installed  ## the slow tests: strict docs build, the site in headless Chromium, every recipe in its smoke form
	$(PY) -m pytest -q $(XDIST) -m slow

test-all: $(VENV)/.installed
	$(PY) -m pytest -q

docs: $(VENV)/.installed  ## build the documentation site into site/
	$(PY) -m mkdocs build --strict

check-site: $(VENV)/.installed  ## build the site and check it in HTML and headless Chromium; screenshots in site-shots/
	$(PY) scripts/check_site.py --screenshots site-shots

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
