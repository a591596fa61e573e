#!/usr/bin/env bash
# Fails when src/generated differs from what proto:gen produces.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/proto-gen.sh >/dev/null
if ! git diff --quiet --exit-code -- src/generated || [ -n "$(git ls-files --others --exclude-standard src/generated)" ]; then
  echo "src/generated is stale: run npm run proto:gen and commit" >&2
  git --no-pager diff --stat -- src/generated >&2
  exit 1
fi
echo "generated code is up to date"
