#!/usr/bin/env bash
# relay-compiler and relay-runtime, exactly as locked (npm ci), for tests/e2e/test_relay.py:
# Relay's documents (a @connection over viewer.threads, a @refetchable pagination
# fragment on Thread) compile against schema.graphql and run against a live gateway.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh

ensure_node
node_is_recent_enough
npm_ci tests/e2e/relay
