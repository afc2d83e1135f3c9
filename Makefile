# Linkage: `make run` starts the whole suite on embedded defaults; `make test` runs every test.
# Both create .venv and install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install bench schemas clean train eval

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@$(BIN)/python -m devtools.suite

test: install
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install  # against a running suite (`make run` in another terminal)
	@$(BIN)/python bench/e2e_latency.py --rate 100 --duration 60

# The routing engine's model: retrain after changing services/router/training/data/ or the registry's department
# terms, and commit router/engine/model/ (a unit test checks the artifact's data hash). One thread: deterministic and frugal.
train: install
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m router.engine.train

eval: install  # held-out split (model trained without it) + ../shared/data/public-eval/*.jsonl
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m router.engine.evaluate $(EVAL_ARGS)

schemas: install
	@$(BIN)/python -m shared.events.schema

clean:
	rm -rf var .venv
