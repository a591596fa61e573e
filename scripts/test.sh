#!/usr/bin/env bash
# npm test: set up what is missing, then unit and e2e tests against real Redis and FerretDB
# (started on free ports by the test setup) or the MONGODB_URI / REDIS_URL given.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools
exec bash scripts/jest.sh --runInBand "$@"
