#!/usr/bin/env bash
# Jest on the pinned Node.js. The code is CommonJS and NestJS 12 is ESM: Jest loads the ESM
# packages through require(esm), which it supports on Node >= 24.9 with the VM modules API on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}"
exec node_modules/.bin/jest "$@"
