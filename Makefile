# Linkage: `make run` starts the whole suite on embedded defaults; `make test` runs every test.
# Both create .venv and install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install bench schemas clean

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

schemas: install
	@$(BIN)/python -m shared.events.schema

clean:
	rm -rf var .venv
