PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest workers: one more than the cores, since many tests wait on servers and subprocesses (3 on 2 cores)
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

.PHONY: test run demo lint bench clean phoenix-prefetch

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# the real Phoenix server the contract tests start (.cache/phoenix-venv, ~850 MB) installs in the background while
# projectops installs and the linters run; the tests wait for it only if it is not done by then
phoenix-prefetch:
	@[ -n "$$PROJECTOPS_SKIP_REAL_PHOENIX" ] || { mkdir -p .cache && \
	  ($(PY) tests/unit/bot/backends/phoenix_install.py > .cache/phoenix-install.log 2>&1 &) }

# pytest keeps bytecode caches even where the environment turns them off (PYTHONDONTWRITEBYTECODE): every worker
# and every app process the tests start would otherwise compile bot/ and rewrite the tests' asserts again
test: phoenix-prefetch $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(WORKERS) --dist loadfile

run: $(STAMP)
	$(BIN)/projectops run

demo: $(STAMP)
	$(BIN)/projectops demo

bench: $(STAMP)
	$(BIN)/python -m bench.ack

clean:
	rm -rf $(VENV) .pytest_cache projectops.db*
