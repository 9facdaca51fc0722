// The full firmware bundle stays under its documented ceiling (README "Memory and size"). Bundle bytes are
// deterministic for a given source, so unlike speed this may be a test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bundleSize, SIZE_CEILING_BYTES } from "../tools/size.ts";
import { boardInfo } from "../boards/index.ts";

test("dist/firmware.js is under the size ceiling", () => {
  const s = bundleSize();
  assert.ok(s.bytes > 1000, "bundle suspiciously small: " + s.bytes);
  assert.ok(s.bytes <= SIZE_CEILING_BYTES, "bundle is " + s.bytes + " bytes, ceiling " + SIZE_CEILING_BYTES);
  assert.deepEqual(JSON.parse(readFileSync("dist/size.json", "utf8")).bytes, s.bytes);
});

test("every ESP8266 board accepts the ceiling", () => {
  for (const id of ["esp8266", "d1mini", "esp32", "linux"]) assert.ok(boardInfo(id)!.maxBundleBytes >= SIZE_CEILING_BYTES, id);
});
