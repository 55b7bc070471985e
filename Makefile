# Stormwater Watch · SMARTS integration
#
#   make run     build a virtualenv, load the built-in sample if the store is empty, start the app
#   make test    run the test suite
#
# Override any variable on the command line, e.g. `make run STORE=/srv/parquet_store HEADLESS=1`.

PYTHON ?= python3
VENV ?= .venv
STORE ?= $(or $(STORMWATER_STORE),parquet_store)
DEMO_SOURCE ?= demo_source
DEMO_SCALE ?= 0.01
BENCH_SCALE ?= 1
HEADLESS ?=
PORT ?=
PYTEST_ARGS ?=

PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STREAMLIT_FLAGS := $(if $(filter 1 true yes,$(HEADLESS)),--server.headless true) \
	$(if $(PORT),--server.port $(PORT))

.DEFAULT_GOAL := help

.PHONY: help venv demo run test lint refresh bench clean clean-store

help:
	@echo "make run          set up, load the built-in sample if the store is empty, start the app"
	@echo "make test         run the test suite"
	@echo "make lint         ruff check"
	@echo "make refresh      load the real SMARTS and eSMR exports from the state portal"
	@echo "make bench        benchmarks at --scale $(BENCH_SCALE) (see docs/BENCHMARKS.md)"
	@echo "make clean        remove the demo source and caches (clean-store: the store too)"

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install python3-venv" >&2; \
		exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# Commands that read or write the store see it as STORMWATER_STORE.
demo run refresh bench: export STORMWATER_STORE := $(STORE)

demo: venv
	@if ls $(STORE)/*/CURRENT >/dev/null 2>&1; then \
		echo "$(STORE) already has published data; not loading the sample"; \
	else \
		if [ ! -f $(DEMO_SOURCE)/package.json ]; then \
			$(PY) cli.py demo-source --out $(DEMO_SOURCE) --scale $(DEMO_SCALE) || exit 1; \
		fi; \
		$(PY) cli.py refresh --source $(DEMO_SOURCE) || exit 1; \
	fi

run: venv demo
	$(VENV)/bin/streamlit run app.py $(strip $(STREAMLIT_FLAGS))

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# Exit code 4 means "nothing changed", a success (README: Scheduling refreshes).
refresh: venv
	$(PY) cli.py refresh || [ $$? -eq 4 ]

bench: venv
	$(PY) cli.py bench --scale $(BENCH_SCALE)

clean:
	rm -rf $(DEMO_SOURCE) .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

clean-store:
	find $(STORE) -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
