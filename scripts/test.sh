#!/usr/bin/env bash
# npm test: set up what is missing, then unit and e2e tests against real Redis and FerretDB
# (started on free ports by the test setup) or the MONGODB_URI / REDIS_URL given. The change-stream
# spec starts its own mongo-java-server, so that is set up either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools --mongo-java-server
exec bash scripts/jest.sh --runInBand "$@"
