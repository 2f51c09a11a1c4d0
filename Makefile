# rulebook — make demo / make test on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench bench-audit bench-serve bench-watch fuzz-audit clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/rulebook check examples/seed-case.yaml

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) dist build .pytest_cache .hypothesis

bench: setup
	$(BIN)/python bench/bench_engine.py

# Kill -9 an audit at random moments many times, resuming each time (the test suite does a few).
fuzz-audit: setup
	RULEBOOK_KILLS=40 RULEBOOK_KILL_SEED=$$RANDOM $(BIN)/python -m pytest tests/unit/test_audit.py -k kill_9 -p no:warnings

bench-serve: setup
	command -v hey >/dev/null || apt-get install -y -qq hey
	$(BIN)/python bench/bench_serve.py

bench-audit: setup
	$(BIN)/python bench/bench_audit.py --cases 200000 --big 1000000

bench-watch: setup
	$(BIN)/python bench/bench_watch.py --events 100000 --cases 5000
