# Every target depends on `install`, so on a fresh machine `make test` or `make demo` alone sets up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARCHIVER := $(VENV)/bin/archiver

.PHONY: install test golden bench demo browse reliability clean

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

# The reliability suite runs at CI size; its table of figures prints before pytest's last line.
test: install
	$(PY) -m pytest -q

# The fault, crash, concurrency, fuzz, bad-input and security suite at a larger size
# (RELIABILITY_SIZE=ci is what `make test` runs); pytest prints its table of figures.
RELIABILITY_SIZE ?= large
reliability: install
	RELIABILITY_SIZE=$(RELIABILITY_SIZE) $(PY) -m pytest -q tests/reliability

# Rewrite the golden files from the current parser and print the diff for review.
golden: install
	$(PY) tests/golden.py --write
	git --no-pager diff --stat -- tests/fixtures/pages
	git --no-pager diff -- tests/fixtures/pages

bench: $(VENV)/.bench-installed
	$(PY) bench/run.py

demo: install
	$(PY) -m archiver.demo

$(VENV)/.datasette-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[datasette]"
	touch $@

# Datasette on the demo archive (made first if missing), on loopback only.
BROWSE_PORT ?= 8001
browse: $(VENV)/.datasette-installed
	test -f data/archive.db || $(PY) -m archiver.demo
	$(VENV)/bin/datasette data/archive.db -m datasette-metadata.json -h 127.0.0.1 -p $(BROWSE_PORT)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
