#!/usr/bin/env bash
# The real subscription clients the tests drive against a live gateway
# (tests/live/test_js_clients.py): graphql-ws and graphql-sse, exactly as locked (npm ci).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh

ensure_node
node_is_recent_enough
npm_ci tests/live/js
