#!/usr/bin/env bash
# npm run bench: the outside load benchmarks (ghz) against freshly started servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools
npx tsc -p tsconfig.build.json
exec node_modules/.bin/tsx bench/load.ts "$@"
