#!/usr/bin/env bash
# npm run test:cluster: the same specs on a local Redis Cluster (3 masters + 3 replicas from the
# redis-server binary, started by the test setup), plus the cluster's own specs (failover with two
# instances). Arguments replace the spec list (e.g. one spec path).
# Left out: specs that start a Redis server of their own or point the app at a dead port ("without
# Redis": on this run every app is a cluster client), and the cache-aside, write-through and
# leaderboard integration specs, which inspect Redis through the app's own client with one-server
# commands (FLUSHDB, KEYS, multi-key EXISTS); the e2e specs cover them on the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/needs.sh
ensure_setup --grpc-tools
specs=(
  test/integration/movie-cache-store.integration-spec.ts
  test/e2e/get-movie.e2e-spec.ts
  test/e2e/update-rating.e2e-spec.ts
  test/e2e/trending.e2e-spec.ts
  test/e2e/benchmark.e2e-spec.ts
  test/e2e/consistency.e2e-spec.ts
  test/e2e/write-fence.e2e-spec.ts
  test/e2e/near-cache.e2e-spec.ts
  test/e2e/grace.e2e-spec.ts
  test/e2e/cluster-failover.e2e-spec.ts
  test/e2e/change-feed.e2e-spec.ts
)
[ $# -eq 0 ] || specs=("$@")
TEST_REDIS_CLUSTER=1 exec bash scripts/jest.sh --runInBand \
  --testNamePattern '^(?!.*(without Redis|reports Redis failures))' "${specs[@]}"
