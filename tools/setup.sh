#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile (fresh clone, or after a
# pull). Used by `npm run sim` and `npm test` so that each is one command on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  # npm ci refuses a lockfile that lacks any optional platform package (rollup ships one per OS/CPU); a
  # registry mirror without some of them makes that the case. npm install then takes the same locked
  # versions and skips the optional packages it cannot get, without rewriting the lockfile.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/pumpnode-npm-ci.log; then
    if grep -q "Missing: @rollup/rollup-" /tmp/pumpnode-npm-ci.log; then
      echo "setup: npm ci wants rollup's platform packages this registry lacks; installing the locked versions with npm install"
      npm install --no-save --no-audit --no-fund --loglevel=error
    else
      cat /tmp/pumpnode-npm-ci.log >&2
      exit 1
    fi
  fi
fi
