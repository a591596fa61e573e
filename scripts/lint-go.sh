#!/usr/bin/env bash
# npm run lint's part for Go: tools/lincheck gofmt'ed and go vet clean.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../tools/lincheck"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "gofmt -w needed in tools/lincheck: $unformatted" >&2; exit 1; }
go vet ./...
