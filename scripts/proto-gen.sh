#!/usr/bin/env bash
# Regenerates src/generated from proto/ (ts-proto through buf).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
rm -rf src/generated
npx buf lint
npx buf generate
npx prettier --log-level warn --write src/generated
