#!/bin/sh
# Runs the built service: `serve.sh` the production entry (dist/src/main.js, needs MONGODB_URI and
# REDIS_URL), `serve.sh dev` the development entry (starts the embedded stack for what is unset).
# MAX_OLD_SPACE_MB (default 128) caps V8's old space, which keeps RSS near 150 MB under load
# (uncapped, V8 lets garbage pile up to ~270 MB; the live set is ~50 MB) at some cost in tail
# latency; MAX_OLD_SPACE_MB=0 runs uncapped. See docs/benchmarks.md.
cap="${MAX_OLD_SPACE_MB:-128}"
entry="main"
[ "${1:-}" = "dev" ] && entry="dev"
main="$(dirname "$0")/../dist/src/$entry.js"
if [ "$cap" = "0" ]; then exec node "$main"; fi
exec node --max-old-space-size="$cap" "$main"
