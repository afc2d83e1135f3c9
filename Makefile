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
# terms, and commit router/engine/model/ (a unit test checks the artifact's data hash). One thread, and numpy's,
# OpenBLAS's, PyTorch's and MKL's x86 kernels held at AVX2: AVX-512 kernels round differently (on an AVX-512
# machine, PyTorch's default kernels gave other weights than these pins; with them, repeated runs, with and without
# numpy's AVX-512 switched off as well, gave the same bits; an AVX-512 machine with AMX gives other bits, the same on
# every run there). Names a machine or library does not know are ignored.
TRAIN_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell \
	NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2

train: install
	@$(TRAIN_ENV) $(BIN)/python -m router.engine.train

# EVAL_ARGS=--writers: also four whole writers held out (a second model trained without them, +3 min)
eval: install  # held-out split (model trained without it), independent set, ../shared/data/public-eval/*.jsonl
	@$(TRAIN_ENV) $(BIN)/python -m router.engine.evaluate $(EVAL_ARGS)

schemas: install
	@$(BIN)/python -m shared.events.schema

clean:
	rm -rf var .venv
