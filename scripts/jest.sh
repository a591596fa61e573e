#!/usr/bin/env bash
# Jest on the pinned Node.js, with the options its require(esm) needs (scripts/node-env.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
export NODE_OPTIONS="$JEST_NODE_OPTIONS ${NODE_OPTIONS:-}"
exec node_modules/.bin/jest "$@"
