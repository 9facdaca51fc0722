/*
 * Host-side check before flashing: validates a config file with the firmware's own validator, against the
 * board named on the command line, and checks the bundle fits that board. On success writes the config,
 * compacted, to --out (the file the Espruino CLI uploads as Storage "config.json").
 *
 *   tsx tools/check-config.ts --board esp8266 --config my.json [--bundle dist/firmware.js] [--out FILE]
 * Prints "cli-board=<file>" on success; exit 2 with one line per problem otherwise.
 */
import { readFileSync, writeFileSync, existsSync, statSync } from "node:fs";
import { validateConfig } from "../firmware/config.ts";
import { boardInfo, BOARD_IDS } from "../boards/index.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function fail(lines: string[]): never {
  for (const l of lines) console.error("flash: " + l);
  process.exit(2);
}

const boardId = arg("board");
const configFile = arg("config");
const bundle = arg("bundle") ?? "dist/firmware.js";
const board = boardId ? boardInfo(boardId) : undefined;
if (!board) fail(["unknown board " + JSON.stringify(boardId ?? "") + " (known: " + BOARD_IDS + ")"]);
if (!configFile) fail(["no --config FILE given"]);
if (!existsSync(configFile)) fail(["config file " + configFile + " does not exist"]);

let raw: unknown;
try {
  raw = JSON.parse(readFileSync(configFile, "utf8"));
} catch (e: any) {
  fail([configFile + " is not valid JSON: " + e.message]);
}
const result = validateConfig(raw, board.espruino);
const errors = result.errors.map((e) => configFile + ": " + e);
if (result.config && result.config.board !== board.id) {
  errors.push(configFile + ": board is \"" + result.config.board + "\" but --board is \"" + board.id + "\"");
}
if (!existsSync(bundle)) errors.push(bundle + " does not exist: run npm run build");
else if (statSync(bundle).size > board.maxBundleBytes) {
  errors.push(bundle + " is " + statSync(bundle).size + " bytes; " + board.name + " takes at most " + board.maxBundleBytes);
}
if (errors.length) fail(errors);

const out = arg("out");
if (out) writeFileSync(out, JSON.stringify(raw), { mode: 0o600 });
console.log("cli-board=" + board.cliBoardFile);
