# rulebook — make demo / make test on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test mutate bench bench-audit bench-serve bench-watch fuzz fuzz-seeds fuzz-audit fuzz-serve clean

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
	rm -rf $(VENV) dist build .pytest_cache .hypothesis mutants

# Mutation testing (not part of `make test`): mutmut over the engine, the payout and the
# validation (5,895 mutants), and mutation/rules.py over the rule files (505); writes
# docs/MUTATION.md with the score and every surviving mutant. On 2 shared cores the rule files
# take about 7 minutes, and one Python mutant in 20 of the engine's and the payout's
# (`python -m mutation --python-only --sample 20 --only rulebook.engine. --only
# rulebook.output.explain`) about 40 minutes with one job; all of them, many hours. mutmut keeps
# its results in mutants/: a second run only runs what changed.
MUTATE_JOBS ?= 2
MUTATE_SAMPLE ?= 1
mutate: setup
	$(BIN)/python -m mutation --jobs $(MUTATE_JOBS) --sample $(MUTATE_SAMPLE)

bench: setup
	$(BIN)/python bench/bench_engine.py

# The seed of the fuzz targets' kills: random unless given (make fuzz-audit KILL_SEED=1234 repeats a run).
# (Not $RANDOM: make's shell is /bin/sh, dash here, where it is empty.)
ifndef KILL_SEED
KILL_SEED := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
endif

# Coverage-guided fuzzing (atheris) of the entry points, one target after the other, each for
# FUZZ_SECONDS in rounds; new interesting inputs are merged into fuzz/corpus/<target>/ (commit
# them: the tests replay them), failing inputs are kept in fuzz/crashes/<target>/.
# make fuzz FUZZ_TARGETS="rules events" FUZZ_SECONDS=60
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= documents rules service events
fuzz: setup
	$(BIN)/python -m fuzz.harness $(FUZZ_TARGETS) --seconds $(FUZZ_SECONDS)

# The fuzz targets' first inputs, from examples/, rules/ and the tests (existing inputs stay).
fuzz-seeds: setup
	$(BIN)/python -m fuzz.seeds

# Kill -9 an audit at random moments many times, resuming each time (the test suite does a few).
fuzz-audit: setup
	RULEBOOK_KILLS=40 RULEBOOK_KILL_SEED=$(KILL_SEED) $(BIN)/python -m pytest tests/unit/test_audit.py -k kill_9 -p no:warnings --timeout 3600

# Kill -9 `rulebook serve` workers under load many times; prints what the clients saw (the test suite does 3).
fuzz-serve: setup
	RULEBOOK_KILLS=40 RULEBOOK_KILL_SEED=$(KILL_SEED) $(BIN)/python -m pytest tests/unit/test_service_faults.py -s -p no:warnings --timeout 3600

bench-serve: setup
	command -v hey >/dev/null || apt-get install -y -qq hey
	$(BIN)/python bench/bench_serve.py

bench-audit: setup
	$(BIN)/python bench/bench_audit.py --cases 200000 --big 1000000 --cross 20000 --end 200000

bench-watch: setup
	$(BIN)/python bench/bench_watch.py --recheck
