#!/usr/bin/env bash
# README's test command (`npm test`): sets itself up on a fresh machine, builds the bundle, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing mosquitto (integration tests need a real broker)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
    # The package starts a system broker on 1883; the tests start their own on free ports.
    (service mosquitto stop || systemctl stop mosquitto || true) >/dev/null 2>&1
  else
    echo "test: mosquitto is missing; install it (Debian/Ubuntu: sudo apt-get install mosquitto) and run again" >&2
    exit 1
  fi
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "test: openssl is missing (TLS tests make certificates with it)" >&2
  exit 1
fi
bash tools/setup.sh
npm run --silent build
files=$(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 ${TEST_ONLY:-$files}
