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
# database (.ci/run sets it), once more against it, over the tests that use a database.
# Each pass runs on every core (pytest-xdist; tests of one xdist_group stay in one process),
# then runs the tests marked serial alone: they assert wall-clock times.
PYTEST := $(BIN)/pytest -q
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	env -u ROTAPOOL_TEST_DATABASE_URL $(PYTEST) -n auto --dist loadgroup -m "not serial"
	env -u ROTAPOOL_TEST_DATABASE_URL $(PYTEST) -m serial
	if [ -n "$$ROTAPOOL_TEST_DATABASE_URL" ]; then \
		$(PYTEST) -n auto --dist loadgroup -m "not serial" && $(PYTEST) -m serial; fi

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
