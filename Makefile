PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/assess run data/samples --out reports/demo

test: $(STAMP)
	$(BIN)/ruff check assess tests bench
	$(BIN)/python -m pytest -q

# every test but those needing vcsim, chromium or a kube-apiserver (marker: system)
test-fast: $(STAMP)
	$(BIN)/ruff check assess tests bench
	$(BIN)/python -m pytest -q -m "not system"

bench: $(STAMP)
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check assess tests bench

clean:
	rm -rf $(VENV) build *.egg-info
