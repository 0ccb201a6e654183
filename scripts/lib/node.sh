# Sourced by scripts/setup.d/*.sh: Node.js and npm, and "npm ci" that only runs when needed.

# Node.js and npm on PATH; Debian's packages when they are missing (needs root).
ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: Node.js and npm are needed; install them (Node.js 20 or newer)." >&2
    return 1
  fi
  echo "setup: installing Node.js and npm (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
}

# GraphQL Code Generator's dependencies need Node.js 20 or newer (Debian 12's own
# package is 18): say so at set-up rather than as a puzzling failure in the tests.
node_is_recent_enough() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "setup: Node.js $(node --version) is too old; Node.js 20 or newer is needed." >&2
    return 1
  fi
}

# npm ci in folder $1, unless its node_modules was installed from the same lockfile.
npm_ci() {
  local dir=$1 want stamp
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.installed-from-lock"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "setup: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}
