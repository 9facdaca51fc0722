/*
 * Prints the bundle size and writes dist/size.json. The ceiling (SIZE_CEILING_BYTES) is the budget the
 * ESP8266 gives the code: see README "Memory and size". test/size.test.ts holds the bundle under it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

/**
 * Bundle ceiling in bytes, for the full firmware (all drivers, pump, discovery). The ESP8266_4MB build has
 * 192 KB of Storage (48 pages of 4 KB); a third of it for the code leaves room for config.json, ha.json and
 * Storage compaction. RAM, not flash, is the real limit: JsVars are measured by the benchmarks.
 */
export const SIZE_CEILING_BYTES = 64000;

export function bundleSize(file = "dist/firmware.js") {
  const code = readFileSync(file);
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, ceilingBytes: SIZE_CEILING_BYTES };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const s = bundleSize();
  writeFileSync("dist/size.json", JSON.stringify(s, null, 2) + "\n");
  console.log("dist/firmware.js: " + s.bytes + " bytes (" + s.gzipBytes + " gzipped), ceiling " + s.ceilingBytes);
  if (s.bytes > s.ceilingBytes) {
    console.error("bundle is over its ceiling of " + s.ceilingBytes + " bytes");
    process.exit(1);
  }
}
