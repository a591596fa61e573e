#!/usr/bin/env bash
# npm run fuzz -- [cases] [jest args]: the property-based fuzzer of every RPC (test/e2e/fuzz.e2e-spec.ts)
# with more cases than CI's 1500, 20000 by default. FUZZ_SEED=<seed> replays a run (the spec prints
# its seed first; fast-check prints seed and path of a failure, FUZZ_PATH takes the path).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup
runs=20000
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  runs=$1
  shift
fi
FUZZ_RUNS="$runs" exec bash scripts/jest.sh --runInBand test/e2e/fuzz.e2e-spec.ts "$@"
