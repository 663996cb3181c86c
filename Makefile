# One command each, on a fresh machine: every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= quick
BENCH_ARGS ?= --bf16

# The embedded dataset unless asked otherwise (DATASET=mnist, cifar10, or auto: the paper's
# dataset on a GPU): a laptop with internet must not start CIFAR-10 on its CPU.
DATASET ?= mnist1d
OUT ?= out

.PHONY: book test bench gpu-report results release clean

$(BIN)/activate: requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/activate

# What only the tests need (pytest, nbval, the browser and process checks, Ray): the [test]
# and [ray] extras of pyproject.toml.
$(VENV)/.test-extras: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,ray]"
	touch $@

## book: build the HTML book into _build/html (LT_PRESET=$(PRESET)), executing the chapters whose
## code, lt_helpers or settings changed since the last build (the others come from the cache)
book: $(BIN)/activate
	LT_PRESET=$(PRESET) LT_DATASET=$(DATASET) LT_PROGRESS=0 LT_STATIC=1 $(BIN)/python -m lt_helpers.tools.build

## test: unit tests, every chapter under nbval, and the book build (smoke preset)
test: $(VENV)/.test-extras
	LT_DATASET=$(DATASET) LT_PROGRESS=0 $(BIN)/python -m pytest

## bench: the side-by-side speed benchmark
bench: $(BIN)/activate
	LT_PROGRESS=0 $(BIN)/python -m lt_helpers.tools.bench $(BENCH_ARGS)

## gpu-report: the paper's scale on this machine's GPU, measured side by side (results/gpu/<device>.json
## and .md; GPU_ARGS=--tiny checks the command in seconds on a CPU)
gpu-report: $(BIN)/activate
	LT_PROGRESS=0 $(BIN)/python -m lt_helpers.tools.gpureport $(GPU_ARGS)

## results: every chapter headless via papermill (make results PRESET=paper DATASET=mnist)
results: $(BIN)/activate
	LT_DATASET=$(DATASET) LT_PROGRESS=0 LT_STATIC=1 $(BIN)/python -m lt_helpers results --preset $(PRESET) --dataset $(DATASET) --out $(OUT)

## release: check that the version agrees everywhere, build the wheel and sdist into dist/, and
## print the git commands that publish (the tag's push builds the book and deploys it to Pages)
release: $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[release]"
	$(BIN)/python -m lt_helpers.tools.release

clean:
	rm -rf _build
