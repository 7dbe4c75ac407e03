# Every target depends on `install`, so on a fresh machine `make test` or `make demo` alone sets up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARCHIVER := $(VENV)/bin/archiver

.PHONY: install test golden bench demo reliability clean

install: $(VENV)/.installed

# pip is upgraded first: the machine's pip 23.2 cannot resolve lxml's `html-clean` extra.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

test: install
	$(PY) -m pytest -q
	$(PY) tests/reliability/report.py

# The fault, crash, concurrency, fuzz, bad-input and security suite at a larger size
# (RELIABILITY_SIZE=ci is what `make test` runs), then its table of figures.
RELIABILITY_SIZE ?= large
reliability: install
	RELIABILITY_SIZE=$(RELIABILITY_SIZE) $(PY) -m pytest -q tests/reliability
	$(PY) tests/reliability/report.py

# Rewrite the golden files from the current parser and print the diff for review.
golden: install
	$(PY) tests/golden.py --write
	git --no-pager diff --stat -- tests/fixtures/pages
	git --no-pager diff -- tests/fixtures/pages

bench: $(VENV)/.bench-installed
	$(PY) bench/run.py

demo: install
	$(PY) -m archiver.demo

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
