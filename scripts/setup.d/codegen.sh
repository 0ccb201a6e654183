#!/usr/bin/env bash
# The two codegen toolchains the tests drive (tests/e2e/test_codegen_*.py):
#   examples/typescript: GraphQL Code Generator and tsc, exactly as locked (npm ci);
#   .venv-codegen: ariadne-codegen, pinned in examples/python/requirements-codegen.txt,
#     in a venv of its own because it needs graphql-core<3.3 and the gateway pins 3.3.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh

ensure_node
node_is_recent_enough
npm_ci examples/typescript

requirements=examples/python/requirements-codegen.txt
want=$(sha256sum "$requirements" | cut -d' ' -f1)
stamp=.venv-codegen/.installed-from-requirements
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: ariadne-codegen into .venv-codegen" >&2
  [ -x .venv-codegen/bin/python ] || "${PYTHON:-python3}" -m venv .venv-codegen
  .venv-codegen/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi
