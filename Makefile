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
# terms, and commit router/engine/model/ (a unit test checks the artifact's data hash). One thread, and numpy's and
# OpenBLAS's x86 kernels held at AVX2 (AVX-512 kernels round differently): with them, an AVX-512 machine retrained
# the committed artifact, made on an earlier machine, bit for bit (without them: weights off by 0.003 on average).
# Names a machine or numpy does not know are ignored with a warning.
TRAIN_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell \
	NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"

train: install
	@$(TRAIN_ENV) $(BIN)/python -m router.engine.train

eval: install  # held-out split (model trained without it) + ../shared/data/public-eval/*.jsonl
	@$(TRAIN_ENV) $(BIN)/python -m router.engine.evaluate $(EVAL_ARGS)

schemas: install
	@$(BIN)/python -m shared.events.schema

clean:
	rm -rf var .venv
