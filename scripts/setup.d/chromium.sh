#!/usr/bin/env bash
# Debian's Chromium for the browser test (tests/e2e/test_graphiql_browser.py), which
# drives it with Playwright: never a browser build downloaded by a test tool.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: /usr/bin/chromium is missing: apt-get install chromium chromium-driver" >&2
  exit 1
fi
echo "setup: installing Chromium (apt-get)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
