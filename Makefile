PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast lint index eval bench install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

index: install
	$(BIN)/kb-ingest

run: index
	@echo "Serving the knowledge base on http://localhost:$(PORT)"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q tests

# The edit-run loop: everything but the tests marked slow (servers, browsers, extra index builds, full eval sets).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" tests

eval: index
	$(BIN)/python -m kb.eval ../shared/eval/dev_qa.jsonl data/eval/seed/*.jsonl

bench: index
	$(BIN)/python -m benchmarks.speed
