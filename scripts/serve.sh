#!/usr/bin/env bash
# Installs messages-gateway into .venv (first run only) and serves it on the embedded
# store: GraphQL at http://127.0.0.1:8000/graphql, the REST store at /v1.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/messages-gateway ]; then
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
for setup in scripts/setup.d/*.sh; do
  case "$setup" in *graphiql*) bash "$setup" ;; esac
done
exec .venv/bin/messages-gateway serve "$@"
