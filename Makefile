# Rådgiver: `make demo` installs and starts the app on the fictional demo corpus;
# `make test` installs and runs the whole test suite. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= .demo-db
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install demo demo-index test sysdeps eval bench clean

$(BIN)/raadgiver: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build in pyproject.toml; install it first so nothing pulls CUDA.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/raadgiver

demo-index: install
	$(BIN)/python demo/render.py demo/minutes demo/build/minutes
	$(BIN)/raadgiver ingest demo/build/minutes --db $(DEMO_DB)

demo: demo-index
	$(BIN)/raadgiver serve --db $(DEMO_DB) --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium; installed here, never by hand.
sysdeps:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: install sysdeps
	$(BIN)/python -m pytest -q

eval: demo-index
	$(BIN)/raadgiver eval --db $(DEMO_DB) --questions eval/questions/demo.jsonl --out reports/eval-demo

bench: install
	$(BIN)/raadgiver bench --out reports/bench

clean:
	rm -rf $(VENV) $(DEMO_DB) demo/build reports
