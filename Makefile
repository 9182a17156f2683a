PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test index eval bench install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

index: install
	$(BIN)/python -m ingest

run: index
	@echo "Serving the knowledge base on http://localhost:$(PORT)"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: install
	$(BIN)/python -m pytest -q tests

eval: index
	$(BIN)/python -m kb.eval ../shared/eval/dev_qa.jsonl data/questions/qa_tune.jsonl data/questions/qa_test.jsonl

bench: index
	$(BIN)/python -m benchmarks.speed
