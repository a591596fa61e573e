#!/usr/bin/env bash
# Runs a command (a tool from node_modules/.bin, or node itself) on the pinned Node.js.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
export PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.bin:$PATH"
exec "$@"
