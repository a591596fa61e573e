#!/usr/bin/env bash
# npm start: set up what is missing, build, run the service (embedded stack unless URLs are given).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup
# grpcurl is what the boot log and the README try first; the service runs without it.
bash scripts/setup.sh --grpcurl ||
  echo "setup: grpcurl could not be installed (needs Go); the service starts anyway. Retry: npm run setup -- --grpcurl" >&2
npx tsc -p tsconfig.build.json
exec sh scripts/serve.sh dev
