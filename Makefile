# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rotapool demo

# The suite runs on SQLite; then, when ROTAPOOL_TEST_DATABASE_URL names a PostgreSQL
# database (.ci/run sets it), once more against that database.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	env -u ROTAPOOL_TEST_DATABASE_URL $(BIN)/pytest -q
	if [ -n "$$ROTAPOOL_TEST_DATABASE_URL" ]; then $(BIN)/pytest -q; fi

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
