#!/bin/sh
# Runs the built service: `serve.sh` the production entry (dist/src/main.js, needs MONGODB_URI and
# REDIS_URL), `serve.sh dev` the development entry (starts the embedded stack for what is unset).
# MAX_OLD_SPACE_MB (default 128) caps V8's old space (uncapped, V8 lets garbage pile up to ~370 MB
# under load); 0 runs uncapped. MAX_SEMI_SPACE_MB (default 16; 0: V8's own, ~32 MB) sizes the young
# generation. Together they keep RSS near 185 MB at c64. Measured: docs/benchmarks.md.
cap="${MAX_OLD_SPACE_MB:-128}"
semi="${MAX_SEMI_SPACE_MB:-16}"
entry="main"
[ "${1:-}" = "dev" ] && entry="dev"
main="$(dirname "$0")/../dist/src/$entry.js"
set --
[ "$cap" != "0" ] && set -- "$@" --max-old-space-size="$cap"
[ "$semi" != "0" ] && set -- "$@" --max-semi-space-size="$semi"
exec node "$@" "$main"
