# Amparo: `make demo` runs it, `make test` tests it. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install browsers

$(BIN)/amparo: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(BIN)/amparo

install: $(BIN)/amparo

demo: install
	$(BIN)/amparo demo

# The whole suite; DATABASE_URL=postgres://... runs it on PostgreSQL. The tests run in
# TEST_WORKERS processes (pytest-xdist), each with its own test database.
TEST_WORKERS ?= 2
test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	AMPARO_DEBUG=true $(BIN)/mypy amparo
	AMPARO_DEBUG=true $(BIN)/amparo makemigrations --check --dry-run
