# Rådgiver: `make demo` installs and starts the app on the fictional demo corpus;
# `make test` installs and runs the whole test suite. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= .demo-db
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install demo demo-index test sysdeps eval bench clean

# One line per step; pip's own output goes to $(LOG) and is shown only when a step fails.
LOG := $(VENV)/install.log
STEP = run() { echo "$$1"; shift; "$$@" >>$(LOG) 2>&1 || { tail -n 40 $(LOG); echo "Fejl – hele loggen: $(LOG)"; exit 1; }; }; run

$(BIN)/raadgiver: pyproject.toml
	@test -x $(BIN)/python || { echo "Opretter $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@: > $(LOG)
	@$(STEP) "Opdaterer pip" $(BIN)/python -m pip install --upgrade pip
	@# torch is pinned to the CPU build in pyproject.toml; install it first so nothing pulls CUDA.
	@$(STEP) "Installerer torch (CPU)" $(BIN)/python -m pip install "torch==2.13.0"
	@$(STEP) "Installerer Rådgiver og testværktøjer" $(BIN)/python -m pip install -e '.[test]'
	@touch $@

install: $(BIN)/raadgiver

demo-index: install
	@echo "Laver demo-referaterne (PDF, DOCX, TXT)"
	@$(BIN)/python demo/render.py demo/minutes demo/build/minutes >/dev/null
	@echo "Bygger demo-indekset i $(DEMO_DB)"
	@$(BIN)/raadgiver ingest demo/build/minutes --db $(DEMO_DB)

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
