#!/usr/bin/env bash
# flash.sh: build the firmware, check the config against the board, upload both with the Espruino CLI.
# Run ./flash.sh --help for the options. See README "Flashing".
set -uo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'USAGE'
Usage: ./flash.sh --board BOARD --config FILE (--port PORT | --dry-run) [options]

Builds dist/firmware.js, validates FILE against BOARD (pins exist, TLS only where the board has it, the
bundle fits), then uploads with the Espruino CLI:
  - the firmware into Storage ".bootcde" (runs from flash at every boot),
  - the config into Storage "config.json" (credentials never sit in the bundle),
  - erases a stale save() image ".varimg", then resets the board into the new firmware.

  --board BOARD     esp8266 (NodeMCU v1), d1mini (Wemos D1 mini), esp32 (DevKit), linux (Espruino on Linux)
  --config FILE     your config.json (start from config.example.json)
  --port PORT       serial device (/dev/ttyUSB0) or tcp://HOST[:PORT] for the board's telnet console
                    (port 23 on ESP8266/ESP32; 2323 on the Linux build started with --telnet)
  --baud N          serial speed (default 115200; the CLI's own default of 9600 is too slow)
  --dry-run         do everything offline and write the exact upload the CLI would send to --out
  --out FILE        where --dry-run writes the upload (default dist/upload-BOARD.js; it holds your
                    credentials: keep it private)
  --no-build        use the existing dist/firmware.js
  --timeout S       give up on each CLI call after S seconds (default 120)
  -h, --help        this text

Exit codes: 0 uploaded (or dry run written), 1 usage error, 2 invalid config or bundle too large,
3 Espruino CLI missing, 4 upload failed (the CLI's own exit code is 0 even on failure, so its output is
checked for "Upload Complete" and for errors).
USAGE
}

die() { echo "flash: $1" >&2; exit "${2:-1}"; }

board="" config="" port="" baud=115200 dry=0 out="" build=1 limit=120
while [ $# -gt 0 ]; do
  case "$1" in
    --board) board="${2:-}"; shift 2 || die "--board needs a value" ;;
    --config) config="${2:-}"; shift 2 || die "--config needs a value" ;;
    --port|-p) port="${2:-}"; shift 2 || die "--port needs a value" ;;
    --baud|-b) baud="${2:-}"; shift 2 || die "--baud needs a value" ;;
    --dry-run|-n) dry=1; shift ;;
    --out|-o) out="${2:-}"; shift 2 || die "--out needs a value" ;;
    --no-build) build=0; shift ;;
    --timeout) limit="${2:-}"; shift 2 || die "--timeout needs a value" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[ -n "$board" ] || die "no --board given (esp8266, d1mini, esp32, linux); see --help"
[ -n "$config" ] || die "no --config given; see --help"
[ "$dry" = 1 ] || [ -n "$port" ] || die "no --port given (e.g. /dev/ttyUSB0 or tcp://192.168.1.50); use --dry-run to only write the upload"
case "$baud" in ''|*[!0-9]*) die "--baud must be a number, got \"$baud\"" ;; esac
case "$limit" in ''|*[!0-9]*) die "--timeout must be a number of seconds, got \"$limit\"" ;; esac

cli=${ESPRUINO_CLI:-node_modules/.bin/espruino}
[ -x "$cli" ] || die "the Espruino CLI is missing ($cli): run npm ci" 3
[ -x node_modules/.bin/tsx ] || die "dependencies are missing: run npm ci" 3

if [ "$build" = 1 ]; then
  npm run --silent build >/dev/null || die "build failed: run npm run build to see why" 2
fi
[ -f dist/firmware.js ] || die "dist/firmware.js is missing: run npm run build" 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
check=$(node_modules/.bin/tsx tools/check-config.ts --board "$board" --config "$config" --out "$work/config.json") || exit 2
cliboard=${check#cli-board=}

# Every CLI call: offline board JSON, no module downloads, no Bluetooth, bounded in time.
common=(--no-ble --board "$cliboard" --config MODULE_URL= --config STORAGE_UPLOAD_METHOD=1)

# The CLI exits 0 on failure: judge it by what it printed.
run_cli() {
  local log="$work/cli.log"
  timeout "$limit" "$cli" "${common[@]}" "$@" >"$log" 2>&1
  local rc=$?
  if [ $rc = 124 ]; then cat "$log" >&2; die "the Espruino CLI did not finish within ${limit}s (board busy printing, or no answer)" 4; fi
  if grep -qE "RECEIVE ERROR|Unable to connect|Uncaught|brackets|ECONNREFUSED|Error: " "$log"; then
    grep -E "RECEIVE ERROR|Unable to connect|Uncaught|brackets|ECONNREFUSED|Error: " "$log" >&2
    die "upload failed (see the lines above)" 4
  fi
  cat "$log"
}

if [ "$dry" = 1 ]; then
  out=${out:-dist/upload-$board.js}
  timeout "$limit" "$cli" "${common[@]}" -n --storage .bootcde:- dist/firmware.js --storage "config.json:$work/config.json" -o "$out" >"$work/cli.log" 2>&1
  if [ ! -s "$out" ] || ! grep -q 'load(".bootcde")' "$out"; then cat "$work/cli.log" >&2; die "the CLI did not write the upload" 4; fi
  chmod 600 "$out"
  echo "flash: dry run for $board: $(wc -c <"$out") bytes to send written to $out (it contains config.json with your credentials)"
  exit 0
fi

baudargs=()
case "$port" in tcp://*) ;; *) baudargs=(-b "$baud") ;; esac

echo "flash: erasing any stale save() image on $port"
run_cli -p "$port" "${baudargs[@]}" -e 'require("Storage").erase(".varimg");print("flash: varimg gone")' >/dev/null
echo "flash: uploading firmware ($(wc -c <dist/firmware.js) bytes) and config to $port"
log=$(run_cli -p "$port" "${baudargs[@]}" --storage .bootcde:- dist/firmware.js --storage "config.json:$work/config.json") || exit $?
echo "$log" | grep -q "Upload Complete" || { echo "$log" >&2; die "no \"Upload Complete\" from the CLI" 4; }
echo "flash: done; the board runs the new firmware from Storage .bootcde"
