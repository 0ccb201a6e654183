#!/usr/bin/env bash
# PostgreSQL for the store tests (tests/store/postgres.py). The shared suite uses,
# in order, GATEWAY_TEST_POSTGRES_URL, the local server on 127.0.0.1:5432, or a
# throwaway cluster made with Debian's binaries; test_postgres_provisioning.py and
# test_postgres_faults.py always start clusters of their own, so the binaries
# (initdb, pg_ctl) are installed whenever they are missing, whatever server is
# running (root only: apt-get). Idempotent.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
  && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: PostgreSQL's binaries (initdb, pg_ctl) are missing and the store tests" \
    "start their own clusters: apt-get install postgresql (as root)" >&2
  exit 1
fi
echo "setup: installing PostgreSQL's binaries (apt-get)" >&2
# Only the binaries are needed (the tests start their own clusters): no main
# cluster is created, so nothing new listens beside a server already running.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/gateway-tests.conf
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
