#!/usr/bin/env bash
# npm run test:mutation: StrykerJS on the cache core, the write path and the trending ranking,
# against one embedded stack shared by its workers. Writes reports/mutation/index.html.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
REDIS_URL= MONGODB_URI= ensure_setup
export NODE_OPTIONS="$JEST_NODE_OPTIONS ${NODE_OPTIONS:-}"
exec node_modules/.bin/tsx scripts/with-stack.ts npx stryker run "$@"
