#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile (fresh clone, or after a
# pull). Used by `npm run sim` and `npm test` so that each is one command on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
