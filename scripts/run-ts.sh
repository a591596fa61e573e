#!/usr/bin/env bash
# Runs a TypeScript entry point (scripts/*.ts) after making sure npm packages are installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/node-env.sh"
bash "$root/scripts/setup.sh" --npm >&2
exec "$root/node_modules/.bin/tsx" "$@"
