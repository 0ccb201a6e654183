#!/usr/bin/env bash
# GraphiQL, offline: installs the IDE's npm packages (ui/graphiql, exactly as locked)
# and copies the browser bundles the page loads into gateway/graphiql/static/vendor,
# which the gateway serves at /graphql/static/vendor. Set-up only: nothing is ever
# downloaded at request time, and the vendored files are not committed.
#
# A failure here is not fatal (scripts/serve.sh must work without Node.js): the
# gateway then serves strawberry's CDN page and says so in its log, and the test
# suite fails on the missing assets (tests/graphiql).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/node.sh
trap 'echo "setup: GraphiQL assets NOT vendored; the IDE page will load them from a CDN" >&2; exit 0' ERR

ensure_node
npm_ci ui/graphiql

modules=ui/graphiql/node_modules
vendor=gateway/graphiql/static/vendor
staging=$(mktemp -d gateway/graphiql/static/.vendor.XXXXXX)
trap 'rm -rf "$staging"' EXIT
cp "$modules/react/umd/react.production.min.js" \
   "$modules/react-dom/umd/react-dom.production.min.js" \
   "$modules/graphiql/graphiql.min.js" \
   "$modules/graphiql/graphiql.min.css" \
   "$staging/"
# The bundle's last line points at a source map we do not ship.
sed -i '/^\/\/# sourceMappingURL=/d' "$staging/graphiql.min.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$staging/graphiql.min.css"
chmod 644 "$staging"/*
chmod 755 "$staging"
rm -rf "$vendor"
mv "$staging" "$vendor"
trap - EXIT
echo "setup: GraphiQL assets in $vendor" >&2
