#!/usr/bin/env bash
# npm test: set up what is missing, then unit and e2e tests against real Redis and FerretDB
# (started on free ports by the test setup) or the MONGODB_URI / REDIS_URL given. The change-stream
# spec starts its own mongo-java-server, so that is set up either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools --mongo-java-server
# Two workers by default (TEST_WORKERS=1 runs in band), each with a Redis of its own
# (test/support/global-setup.ts), sharing the embedded MongoDB and PostgreSQL. On a Redis given by
# REDIS_URL, always in band: specs flush it.
export TEST_WORKERS="${TEST_WORKERS:-2}"
if [ -n "${REDIS_URL:-}" ] || [ "$TEST_WORKERS" = "1" ]; then
  exec bash scripts/jest.sh --runInBand "$@"
fi
exec bash scripts/jest.sh --maxWorkers="$TEST_WORKERS" "$@"
