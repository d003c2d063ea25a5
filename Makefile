# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app clinic
PYTEST_ARGS ?=

.PHONY: run test install install-dev bench audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

## make run: install, migrate, seed the demo clinic, serve http://127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving the demo clinic at http://127.0.0.1:5000 (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port 5000

## make test: install the test tools and run the whole suite
test: install-dev
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . $(PYTEST_ARGS)

## make audit: known vulnerabilities in the pinned requirements, high-severity findings in clinic/
audit: install-dev
	$(BIN)/bandit --quiet --recursive clinic -lll
	$(BIN)/pip-audit --strict --progress-spinner off --requirement requirements.txt

## make bench: run the benchmarks in bench/, print their figures, write bench/report.md
bench: install-dev
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance/*.sqlite3*
