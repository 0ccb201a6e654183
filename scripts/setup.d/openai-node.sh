#!/usr/bin/env bash
# The official openai Node SDK, exactly as locked, for tests/store/test_openai_node.py
# (auto-pagination against a live store).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh

ensure_node
node_is_recent_enough
npm_ci tests/store/js
