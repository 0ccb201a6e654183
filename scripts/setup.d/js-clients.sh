#!/usr/bin/env bash
# The real JavaScript GraphQL clients the tests drive against a live gateway
# (tests/e2e/test_graphql_over_http.py, tests/e2e/test_apollo_client.py):
# graphql-http's server audits and Apollo Client 4, exactly as locked (npm ci).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh

ensure_node
node_is_recent_enough
npm_ci tests/e2e/js
