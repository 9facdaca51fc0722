// flash.sh end to end with the real Espruino CLI: the offline dry run writes the exact upload; bad input
// (board, config, port) fails with a clear message and a non-zero exit; a refused connection, which the
// CLI itself reports with exit code 0, is caught from its output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./helpers/mosquitto.ts";

const dir = mkdtempSync(join(tmpdir(), "flash-"));

function flash(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("./flash.sh", ["--no-build", ...args], { encoding: "utf8", timeout: 120000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout + r.stderr };
}

test("dry run writes the Storage upload: config.json, .bootcde, then load", () => {
  const out = join(dir, "upload.js");
  const r = flash(["--board", "esp8266", "--config", "config.example.json", "--dry-run", "--out", out]);
  assert.equal(r.code, 0, r.out);
  const upload = readFileSync(out, "utf8");
  assert.match(upload, /require\("Storage"\)\.write\("config\.json",/);
  assert.match(upload, /require\("Storage"\)\.write\("\.bootcde",/);
  assert.match(upload.trim().split("\n").pop()!, /^load\("\.bootcde"\)$/);
  // The config travels compacted and base64'd; the firmware itself holds no credential.
  assert.doesNotMatch(readFileSync("dist/firmware.js", "utf8"), /secret/);
});

test("a broken config exits 2 naming the field", () => {
  const bad = JSON.parse(readFileSync("config.example.json", "utf8"));
  bad.pump.maxRunSeconds = "ten";
  const f = join(dir, "bad.json");
  writeFileSync(f, JSON.stringify(bad));
  const r = flash(["--board", "esp8266", "--config", f, "--dry-run"]);
  assert.equal(r.code, 2);
  assert.match(r.out, /pump\.maxRunSeconds must be a number between 1 and 86400, got "ten"/);
});

test("config for another board, TLS on ESP8266, bad JSON: refused", () => {
  const r1 = flash(["--board", "esp32", "--config", "config.example.json", "--dry-run"]);
  assert.equal(r1.code, 2);
  assert.match(r1.out, /board is "esp8266" \(Espruino ESP8266_4MB\) but this device runs ESP32/);
  const tls = JSON.parse(readFileSync("config.example.json", "utf8"));
  tls.mqtt.tls = true;
  writeFileSync(join(dir, "tls.json"), JSON.stringify(tls));
  const r2 = flash(["--board", "esp8266", "--config", join(dir, "tls.json"), "--dry-run"]);
  assert.equal(r2.code, 2);
  assert.match(r2.out, /mqtt\.tls is not available on NodeMCU v1/);
  writeFileSync(join(dir, "broken.json"), "{\"board\": ");
  const r3 = flash(["--board", "esp8266", "--config", join(dir, "broken.json"), "--dry-run"]);
  assert.equal(r3.code, 2);
  assert.match(r3.out, /is not valid JSON/);
});

test("usage errors: no port, unknown board, unknown option", () => {
  assert.match(flash(["--board", "esp8266", "--config", "config.example.json"]).out, /no --port given/);
  const r = flash(["--board", "uno", "--config", "config.example.json", "--dry-run"]);
  assert.equal(r.code, 2);
  assert.match(r.out, /unknown board "uno" \(known: esp8266, d1mini, esp32, linux\)/);
  assert.equal(flash(["--frobnicate"]).code, 1);
  assert.match(flash(["--help"]).out, /tcp:\/\/HOST\[:PORT\]/);
});

test("a missing CLI is reported with exit 3", () => {
  const r = flash(["--board", "esp8266", "--config", "config.example.json", "--dry-run"], { ESPRUINO_CLI: join(dir, "nope") });
  assert.equal(r.code, 3);
  assert.match(r.out, /the Espruino CLI is missing/);
});

test("a refused connection fails the upload although the CLI exits 0", async () => {
  const port = await freePort(); // nothing listens there
  const r = flash(["--board", "esp8266", "--config", "config.example.json", "--port", "tcp://127.0.0.1:" + port, "--timeout", "60"]);
  assert.equal(r.code, 4, r.out);
  assert.match(r.out, /upload failed|did not finish/);
});

test("a device-side error in the CLI output fails the upload", () => {
  const fake = join(dir, "fake-cli.sh");
  writeFileSync(fake, "#!/bin/sh\necho 'Uncaught SyntaxError: Got ?'\nexit 0\n");
  chmodSync(fake, 0o755);
  const r = flash(["--board", "esp8266", "--config", "config.example.json", "--port", "/dev/null"], { ESPRUINO_CLI: fake });
  assert.equal(r.code, 4);
  assert.match(r.out, /Uncaught SyntaxError/);
});
