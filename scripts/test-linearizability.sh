#!/usr/bin/env bash
# npm run test:linearizability -- [--phases a,b] [--seconds 12] [--runs 1] [--near-cache on|off]
#   [--cluster] [--short]: the service's linearizability under faults (test/linearizability/run.ts),
# each phase's history checked by tools/lincheck (Porcupine). The runner starts its own servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
unset REDIS_URL REDIS_CLUSTER_NODES MONGODB_URI CHANGE_FEED_POSTGRES_URL
source scripts/needs.sh
ensure_setup --lincheck
# The checker's own tests first: known linearizable and known broken histories.
(cd tools/lincheck && go test -count=1 ./... >/dev/null) || {
  echo "lincheck's own tests fail: cd tools/lincheck && go test ./..." >&2
  exit 1
}
exec bash scripts/on-node.sh tsx test/linearizability/run.ts "$@"
