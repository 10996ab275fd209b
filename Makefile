# Fresh machine: `make demo` (LOSO demo on the synthetic corpus) and `make test`
# (test suite); `make evidence`: the comparison table (docs/evidence.md, ~45 min).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# CPU build from local disk here; override e.g. TORCH='torch==2.5.1' for CUDA.
TORCH  ?= torch==2.13.0

.PHONY: install test demo evidence clean

install: $(STAMP)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 'setuptools<82' wheel
	$(BIN)/python -m pip install -q '$(TORCH)'
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[tests,face]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q tests

demo: install
	$(BIN)/python tools/loso_demo.py

evidence: install
	$(BIN)/python tools/evidence.py

clean:
	rm -rf $(VENV) work_dirs
