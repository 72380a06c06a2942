# Every target creates .venv itself, so each works on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck fuzz load bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo

test: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks
	$(BIN)/mypy --strict
	$(BIN)/pytest

# Writes docs/benchmarks.md and docs/benchmarks.png (a few minutes; uses wrk if installed).
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run

# At least 100,000 hypothesis examples per fuzz target (hours; see docs/fuzzing.md).
# Narrow it with FUZZ_TARGETS=tests/fuzz/test_fuzz_consent.py or FUZZ_ARGS="-k policy".
# The browser differential target reads FUZZ_BROWSER_LINES (20,000 a configuration under this
# profile), FUZZ_BROWSER_SEED, FUZZ_BROWSER_CASE and FUZZ_BROWSER_REPORT from the environment.
FUZZ_TARGETS ?= tests/fuzz
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest $(FUZZ_TARGETS) -x $(FUZZ_ARGS)

# 10,000 requests from 50 concurrent clients per server (see docs/load.md).
load: $(STAMP)
	LOAD_REQUESTS=10000 LOAD_CONCURRENCY=50 $(BIN)/pytest tests/test_load.py -m load -v -s

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
