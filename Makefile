# The two commands a newcomer needs: `make demo` and `make test`.
# Both create the virtual environment in .venv when it is missing (Python 3.11+).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint docs clean

$(STAMP): pyproject.toml examples/spoc-facilities/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SPOC needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,assist]' -e examples/spoc-facilities
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spoc demo

# One pytest worker per core (pytest-xdist); each file's tests stay on one worker, so a
# module's fixtures are built once. PYTEST_ARGS="-n 0" runs in this process, for a debugger.
test: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy spoc/core spoc/plugins spoc/testing
	$(BIN)/lint-imports --no-cache

docs: $(STAMP)
	$(BIN)/spoc docs hooks
	$(BIN)/spoc docs services

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
