#!/usr/bin/env bash
# npm test: set up what is missing, then unit and e2e tests against real Redis and FerretDB
# (started on free ports by the test setup) or the MONGODB_URI / REDIS_URL given. The change-stream
# spec starts its own mongo-java-server, so that is set up either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools --mongo-java-server
# Two workers, each with a Redis of its own (test/support/global-setup.ts); on a Redis given by
# REDIS_URL, one at a time: specs flush it.
if [ -n "${REDIS_URL:-}" ]; then
  exec bash scripts/jest.sh --runInBand "$@"
fi
export TEST_WORKERS="${TEST_WORKERS:-2}"
exec bash scripts/jest.sh --maxWorkers="$TEST_WORKERS" "$@"
