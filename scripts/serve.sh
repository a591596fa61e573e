#!/bin/sh
# Runs the built service. The old-space cap keeps RSS near 160 MB under load: without it V8
# lets garbage pile up to ~250 MB before collecting (the live set is ~50 MB).
exec node --max-old-space-size="${MAX_OLD_SPACE_MB:-128}" "$(dirname "$0")/../dist/src/main.js"
