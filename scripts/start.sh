#!/usr/bin/env bash
# npm start: set up what is missing, build, run the service (embedded stack unless URLs are given).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup
npx tsc -p tsconfig.build.json
exec sh scripts/serve.sh dev
