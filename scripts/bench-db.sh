#!/usr/bin/env bash
# npm run bench:db: the repository's queries against the embedded database, per backend and size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
bash scripts/setup.sh --npm --ferretdb
exec node_modules/.bin/tsx bench/db.ts "$@"
