#!/usr/bin/env bash
# npm run soak: 60 s of mixed load with a Redis restart in the middle (see bench/soak.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
REDIS_URL= MONGODB_URI= ensure_setup
npx tsc -p tsconfig.build.json
exec node_modules/.bin/tsx bench/soak.ts "$@"
