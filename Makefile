# Two commands for a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev lint bench bench-peers clean data

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[sweep]'
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,sweep]'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEVSTAMP)

## make run: install, then run the main job on the bundled Hai Duong data
run: $(STAMP)
	$(BIN)/rotation demo
	@echo ""
	@echo "Starting the HTTP API at http://127.0.0.1:8000 (OpenAPI docs: /docs), Hai Duong loaded."
	@echo "The admin key for local use is printed below (admin API key: rk_...). Try:"
	@echo '  curl -H "Authorization: Bearer rk_..." http://127.0.0.1:8000/v1/datasets'
	ROTATION_LOAD_DEMO=1 $(BIN)/rotation serve --host 127.0.0.1 --port 8000

## make test: install the dev extras and run the whole suite (exit 5 = no tests = failure)
test: $(DEVSTAMP) lint
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected: failing"; exit 1; fi; exit $$rc

## make lint: ruff (rules), ruff format (layout) and mypy (types, None checks); part of make test
lint: $(DEVSTAMP)
	$(BIN)/ruff check rotation api tests bench
	$(BIN)/ruff format --check rotation api tests bench
	$(BIN)/mypy

bench: $(DEVSTAMP)
	$(BIN)/python -m bench.run

## make bench-peers: the benchmark's peers (a JDK with apt-get when missing, then .[bench]:
## PySCIPOpt, highspy, timefold); never needed by the product
bench-peers: $(DEVSTAMP)
	scripts/bench-peers.sh $(BIN)/pip

## regenerate the bundled data (see data/README.md)
data: $(STAMP)
	$(BIN)/rotation synth --province "Hải Dương" --legacy --seed 2026 --out data/hai_duong

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
