#!/usr/bin/env bash
# PostgreSQL for the store tests (tests/store/postgres.py), which use, in order:
# GATEWAY_TEST_POSTGRES_URL, the local server on 127.0.0.1:5432, or a throwaway
# cluster made with Debian's binaries. Installs those binaries when neither server
# is there and they are missing (root only). Idempotent.
set -euo pipefail
if [ -n "${GATEWAY_TEST_POSTGRES_URL:-}" ]; then
  exit 0
fi
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  exit 0
fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: no PostgreSQL for the store tests: set GATEWAY_TEST_POSTGRES_URL," \
    "start a server on 127.0.0.1:5432, or apt-get install postgresql" >&2
  exit 1
fi
echo "setup: installing PostgreSQL's binaries (apt-get)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
# Only the binaries are needed: the tests start their own cluster.
