#!/usr/bin/env bash
# The CLI (`npm run cli`, and the package's `movie-cache` bin): runs the built JavaScript on the
# pinned Node.js, building first only when dist/ is missing or a source file is newer than the build.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
source "$root/scripts/node-env.sh"
entry="$root/dist/scripts/cli.js"
stamp="$root/dist/.cli-build-stamp"

# `find -newer` over the sources takes a few milliseconds; a build of everything, seconds.
stale() {
  [ -f "$entry" ] && [ -f "$stamp" ] || return 0
  [ -n "$(find "$root/src" "$root/scripts" "$root/tsconfig.json" "$root/tsconfig.build.json" \
    "$root/package-lock.json" -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]
}

if stale; then
  bash "$root/scripts/setup.sh" --npm >&2
  printf '\033[1mcli:\033[0m building dist/ (tsc -p tsconfig.build.json)\n' >&2
  # Stamped with the time the build started: a file saved during the build counts as newer.
  mkdir -p "$root/dist"
  next="$(mktemp "$stamp.XXXXXX")"
  trap 'rm -f "$next"' EXIT
  (cd "$root" && node_modules/.bin/tsc -p tsconfig.build.json) >&2
  mv "$next" "$stamp"
fi
exec node "$entry" "$@"
