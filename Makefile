# make demo: remediate a recorded event against the built-in fake OSS.
# make test: lint, types and the tests under Python 3.10 (the template's runtime) and 3.12.
# Each creates its own virtual environment; nothing needs to be installed beforehand.

SHELL := /bin/bash
# A Python X.Y: pyenv's build if there is one, else pythonX.Y on the PATH.
find_python = $(or $(firstword $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python)),$(shell command -v python$(1)))
PY310 ?= $(call find_python,3.10)
PY312 ?= $(call find_python,3.12)
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: demo test test-deep bench mutate lint types pytest-310 pytest-312 clean

.venv-%/.installed: requirements.txt requirements-fc.txt pyproject.toml
	@test -n "$(PY$(subst .,,$*))" || { echo "Python $* not found"; exit 2; }
	rm -rf .venv-$*
	$(PY$(subst .,,$*)) -m venv .venv-$*
	.venv-$*/bin/pip install $(PIP_FLAGS) --upgrade pip
	.venv-$*/bin/pip install $(PIP_FLAGS) -r requirements.txt -r requirements-fc.txt -e '.[dev]'
	touch $@

demo: .venv-3.10/.installed
	.venv-3.10/bin/resource-repair invoke -f tests/events/noncompliance-oss-stream.txt --env dryRun=false

lint: .venv-3.10/.installed
	.venv-3.10/bin/ruff check src tests benchmarks mutation
	.venv-3.10/bin/ruff format --check src tests benchmarks mutation

types: .venv-3.10/.installed
	.venv-3.10/bin/mypy

pytest-310: .venv-3.10/.installed
	.venv-3.10/bin/python -m pytest

pytest-312: .venv-3.12/.installed
	.venv-3.12/bin/python -m pytest

test: lint types pytest-310 pytest-312

# Benchmarks: they print figures; none of them is a pass/fail test.
bench: .venv-3.10/.installed
	.venv-3.10/bin/python benchmarks/decode_cost.py
	.venv-3.10/bin/python benchmarks/cold_start.py
	.venv-3.10/bin/python benchmarks/burst.py
	.venv-3.10/bin/python benchmarks/backfill.py
	.venv-3.10/bin/python benchmarks/flood.py

# Plant realistic one-line bugs in the safety code (mutation/mutants.py) and print which the
# tests notice, with the kill rate per module. Slow (minutes); not part of `make test`.
mutate: .venv-3.10/.installed
	.venv-3.10/bin/python -m mutation

# The property suite with many more examples than CI runs.
test-deep: .venv-3.10/.installed
	HYPOTHESIS_PROFILE=deep .venv-3.10/bin/python -m pytest tests/test_properties.py

clean:
	rm -rf .venv-3.10 .venv-3.12 .pytest_cache .mypy_cache .ruff_cache

# The code package `s deploy -t template.yml` uploads (build/fc-code): the template's
# pre-deploy action runs the same script. Any Python 3 with pip will do.
.PHONY: package
package:
	$(or $(PY310),python3) src/resource_repair/tools/fc_package.py --python-version 3.10
