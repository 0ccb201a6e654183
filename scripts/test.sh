#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, then runs
# lint, types and pytest. Extra arguments go to pytest (e.g. scripts/test.sh -k store).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,postgres]'

for setup in scripts/setup.d/*.sh; do
  [ -e "$setup" ] && bash "$setup"
done

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# pytest exits 5 when it collects no test: that is a failure here too.
exec .venv/bin/pytest "$@"
