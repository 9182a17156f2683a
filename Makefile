PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# llama-cpp-python for the generation tests: built from source once per CPU kind, its wheel kept outside the repo
# (the version pinned in requirements-llm-test.txt)
LLAMA_CPP_VERSION := 0.3.36
WHEELS ?= $(HOME)/.cache/kb-wheels/$(shell uname -m)-$(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | md5sum | cut -c1-12)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DGGML_BLAS=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

.PHONY: run test test-fast lint index eval bench install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

# Without cmake or a C++ compiler the build is impossible: say so and go on (the generation tests then skip).
# A build that fails where it is possible fails `make test`.
$(VENV)/.llm-test-installed: requirements-llm-test.txt | $(VENV)/.installed
	@if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then \
		echo "warning: no cmake or C++ compiler, so llama-cpp-python cannot be built; generation tests will skip"; \
	else \
		if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
			echo "building llama-cpp-python $(LLAMA_CPP_VERSION) from source (about 11 minutes on 2 cores), kept in $(WHEELS)"; \
			rm -rf $(WHEELS).part && mkdir -p $(WHEELS).part && \
			CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
				$(BIN)/pip wheel -q --no-deps --no-binary llama-cpp-python -w $(WHEELS).part llama-cpp-python==$(LLAMA_CPP_VERSION) && \
			mkdir -p $(WHEELS) && mv $(WHEELS).part/*.whl $(WHEELS)/ && rm -rf $(WHEELS).part || exit 1; \
		fi; \
		$(BIN)/pip install -q --find-links $(WHEELS) --only-binary llama-cpp-python -r requirements-llm-test.txt \
			&& touch $@; \
	fi

index: install
	$(BIN)/kb-ingest

run: index
	@echo "Serving the knowledge base on http://localhost:$(PORT)"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

lint: install
	$(BIN)/ruff check .

test: lint $(VENV)/.llm-test-installed
	$(BIN)/python -m pytest -q tests

# The edit-run loop: everything but the tests marked slow (servers, browsers, extra index builds, full eval sets).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" tests

eval: index
	$(BIN)/python -m kb.eval ../shared/eval/dev_qa.jsonl data/eval/seed/*.jsonl

bench: index
	$(BIN)/python -m benchmarks.speed
