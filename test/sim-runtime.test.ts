/*
 * The simulator's Espruino runtime against Espruino 2v29 semantics, one small ES5 bundle per API.
 * Each bundle prints what it saw; the test compares with what the interpreter prints.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevice, type SimDevice } from "../sim/api.ts";

const CFG = { board: "esp8266", wifi: { ssid: "lab", password: "pw" }, mqtt: { host: "127.0.0.1", port: 1 }, device: { id: "t1" } };

async function run(code: string, opts: any = {}): Promise<SimDevice> {
  return startDevice({ config: CFG, code, ...opts });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("what Espruino lacks is missing from the context", async () => {
  const names = ["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Symbol", "Reflect", "Proxy", "TextEncoder", "TextDecoder", "setImmediate", "queueMicrotask", "globalThis", "structuredClone", "Buffer", "process.nextTick", "Array.from", "Array.of", "Math.trunc", "Number.isFinite", "Object.freeze", "Uint8Array.from", "[].flat", "''.padEnd === undefined ? undefined : 1"];
  const code = names.map((n) => 'print("' + n.replace(/"/g, "'") + '=" + typeof ' + n + ");").join("\n") + '\nprint("present=" + typeof Object.assign + typeof [].find + typeof JSON.parse + typeof Promise + typeof DataView + typeof E.toString + typeof global);';
  const d = await run(code);
  await d.waitForConsole(/present=/, 2000);
  for (const n of names.slice(0, -1)) assert.equal(d.console.find((l) => l.startsWith(n.replace(/"/g, "'") + "=")), n.replace(/"/g, "'") + "=undefined", n);
  assert.ok(d.console.includes("present=functionfunctionfunctionfunctionfunctionfunctionobject"));
  await d.stop();
});

test("a bundle that needs var hoisting is refused: Espruino would write the global instead", async () => {
  // On Espruino 2v29 this prints "g=2 q=number": q is a global. Node would hoist it, so the simulator refuses.
  const d = await run('function g(x) { if (x) { var q = 1; } else { q = 2; } return q; } print("g=" + g(0) + " q=" + typeof q);');
  await d.waitForConsole(/Espruino does not hoist var/, 2000);
  assert.ok(!d.console.some((l) => l.startsWith("g=")), "the code must not run");
  await d.stop();
});

test("unimplemented Espruino calls throw, naming the call", async () => {
  const d = await run('try { analogRead(D0); } catch (e) { print("A:" + e.message); } try { E.getTemperature(); } catch (e) { print("B:" + e.message); } try { require("http"); } catch (e) { print("C:" + e.message); } try { require("tls"); } catch (e) { print("D:" + e.message); }');
  await d.waitForConsole(/^D:/, 2000);
  assert.match(d.console.find((l) => l.startsWith("A:"))!, /analogRead\(\) is not implemented in the simulator/);
  assert.match(d.console.find((l) => l.startsWith("B:"))!, /E\.getTemperature\(\) is not implemented/);
  assert.equal(d.console.find((l) => l.startsWith("C:")), 'C:Module "http" not found');
  assert.equal(d.console.find((l) => l.startsWith("D:")), 'D:Module "tls" not found', "the ESP8266 build has no tls");
  await d.stop();
});

test("timers: integer ids reused when the table empties, clearTimeout() clears all, undefined throws, unknown ids are silent", async () => {
  const d = await run(`
    var a = setTimeout(function () { print("never"); }, 50);
    var b = setInterval(function () { print("never2"); }, 50);
    print("ids " + a + " " + b + " " + typeof a);
    try { clearTimeout(undefined); } catch (e) { print("undef: " + e.message); }
    clearTimeout(999); print("unknown ok");
    clearTimeout();
    var c = setTimeout(function (x, y) { print("args " + x + y); var d = setTimeout(function () {}, 1); print("reused " + d); }, 5, "p", "q");
    print("after clear " + c);
    var n = 0; var i = setInterval(function () { n++; if (n === 3) { clearInterval(i); print("interval x3"); } }, 5);
  `);
  await d.waitForConsole(/interval x3/, 2000);
  await wait(80);
  assert.ok(d.console.includes("ids 1 2 number"));
  assert.ok(d.console.includes("undef: clearTimeout(undefined) not allowed. Use clearTimeout() instead"));
  assert.ok(d.console.includes("unknown ok"));
  assert.ok(d.console.includes("after clear 1"), "ids restart at 1 once every timer is gone");
  assert.ok(d.console.includes("args pq"));
  assert.ok(!d.console.some((l) => l.startsWith("never")));
  await d.stop();
});

test("getTime is seconds since boot (float); uncaught errors print and the device goes on", async () => {
  const d = await run('var t = getTime(); print("t " + (t >= 0 && t < 5) + " " + (t % 1 !== 0)); setTimeout(function () { throw new Error("boom"); }, 1); setTimeout(function () { print("still alive"); }, 20);');
  await d.waitForConsole(/still alive/, 2000);
  assert.ok(d.console.includes("t true true"));
  assert.ok(d.console.includes("Uncaught Error: boom"));
  await d.stop();
});

test("pins: auto mode switching, manual mode latch, watches with edge/debounce, clearWatch", async () => {
  const d = await run(`
    digitalWrite(D5, 1); print("m1 " + getPinMode(D5));
    print("r " + digitalRead(D5) + " " + getPinMode(D5));
    pinMode(D12, "input", false); digitalWrite(D12, 1); print("manual " + getPinMode(D12));
    pinMode(D12, "output", false); print("latched " + digitalRead(D12));
    pinMode(D13, "input_pullup"); print("pullup " + digitalRead(D13));
    try { pinMode(D13, "bogus"); } catch (e) { print("mode: " + e.message); }
    try { digitalWrite(99, 1); } catch (e) { print("pin: " + e.message); }
    var id = setWatch(function (e) { print("rise " + e.state + " " + (typeof e.time) + " " + (e.lastTime === undefined)); }, D14, { repeat: false, edge: "rising" });
    var deb = setWatch(function (e) { print("deb " + e.state); }, D4, { repeat: true, edge: "both", debounce: 30 });
    try { clearWatch(77); } catch (e) { print("cw: " + e.message); }
    try { clearWatch(undefined); } catch (e) { print("cwu: " + e.message); }
    print("watch ids " + id + " " + deb);
  `);
  await d.waitForConsole(/watch ids/, 2000);
  assert.ok(d.console.includes("m1 output"));
  assert.ok(d.console.includes("r 0 input"), "digitalRead on an auto output pin makes it an input (floating reads 0)");
  assert.ok(d.console.includes("manual input"));
  assert.ok(d.console.includes("latched 1"));
  assert.ok(d.console.includes("pullup 1"));
  assert.ok(d.console.includes("mode: Unknown pin mode"));
  assert.ok(d.console.includes("pin: Invalid pin"));
  assert.ok(d.console.includes("cw: Unknown Watch 77"));
  assert.ok(d.console.includes("cwu: clearWatch(undefined) not allowed. Use clearWatch() instead"));
  assert.ok(d.console.includes("watch ids 1 2"));
  d.setInput(14, 1);
  d.setInput(14, 0);
  d.setInput(14, 1);
  await wait(30);
  assert.deepEqual(d.console.filter((l) => l.startsWith("rise")), ["rise true number true"], "non-repeating watch fires once");
  // Bounces shorter than the debounce collapse into one event.
  d.setInput(4, 1);
  await wait(5);
  d.setInput(4, 0);
  await wait(5);
  d.setInput(4, 1);
  await wait(80);
  assert.deepEqual(d.console.filter((l) => l.startsWith("deb")), ["deb true"]);
  await d.stop();
});

test("I2C: software bus reaches a chip's registers; unplugged reads 0xFF; timeout throws Espruino's message", async () => {
  const code = `
    var i2c = new I2C(); i2c.setup({ sda: D4, scl: D5, bitrate: 100000 }); // NodeMCU labels D2/D1 are GPIO4/GPIO5; Espruino D4 is GPIO4
    function id() { i2c.writeTo(0x76, 0xD0); return i2c.readFrom(0x76, 1)[0]; }
    print("id " + id() + " " + (i2c.readFrom(0x76, 2) instanceof Uint8Array));
    global.probe = function () { try { print("probe " + id()); } catch (e) { print("probe err " + e.message); } };
  `;
  const cfg = { ...CFG, sensors: [{ type: "bme280", address: 0x76 }] };
  const d = await startDevice({ config: cfg, code });
  await d.waitForConsole(/^id /, 2000);
  assert.ok(d.console.includes("id 96 true"), "BME280 chip id 0x60");
  const chip = d.hw.sensors[0];
  chip.fail = "unplugged";
  (d.rt as any).ctx.probe();
  chip.fail = "timeout";
  (d.rt as any).ctx.probe();
  assert.ok(d.console.includes("probe 255"));
  assert.ok(d.console.includes("probe err I2C Error: Timeout (wr)"));
  await d.stop();
});

test("DHT22: start pulse answered with the frame as timed edges through setWatch", async () => {
  const code = `
    var t = []; var pin = D14;
    digitalWrite(pin, 0); pinMode(pin, "output");
    var w = setWatch(function (e) { t.push(e.time - e.lastTime); }, pin, { repeat: true, edge: "falling" });
    setTimeout(function () { pinMode(pin, "input_pullup"); }, 2);
    setTimeout(function () {
      clearWatch(w);
      var bits = ""; for (var i = 0; i < t.length; i++) bits += t[i] > 0.00005 ? "1" : "0"; // lastTime follows every edge: time - lastTime is the high time
      print("bits " + t.length + " " + bits.substr(-40));
    }, 60);
  `;
  const d = await startDevice({ config: { ...CFG, sensors: [{ type: "dht22", pin: "D5" }] }, code }); // NodeMCU D5 = GPIO14
  const m = d.hw.sensors[0];
  m.temperature = -5.5;
  m.humidity = 61.2;
  const line = await d.waitForConsole(/^bits/, 3000);
  // frame: 612 = 0x0264, -55 = 0x8037, checksum 0x02+0x64+0x80+0x37 = 0x11D -> 0x1D
  const expect = [0x02, 0x64, 0x80, 0x37, 0x1d].map((b) => b.toString(2).padStart(8, "0")).join("");
  assert.equal(line.split(" ")[2], expect);
  await d.stop();
});

test("Storage persists across powerCycle; the bundle runs again from .bootcde", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simst-"));
  const code = 'var S = require("Storage"); var n = (S.readJSON("boots.json", true) || 0) + 1; S.writeJSON("boots.json", n); print("boot " + n); try { S.write("z", ""); } catch (e) { print("zero: " + e.message); } try { S.readJSON("bad", false); } catch (e) { print("bad json throws"); }';
  const d = await startDevice({ config: CFG, code, storageDir: dir });
  await d.waitForConsole(/boot 1/, 2000);
  d.rt.storage.write("bad", "{x");
  await d.powerCycle();
  await d.waitForConsole(/boot 2/, 2000);
  assert.ok(d.console.includes("zero: Can't create zero length file"));
  assert.ok(d.console.includes("bad json throws"));
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("load() reboots softly (E 'kill' first, timers gone); reset() runs no code afterwards", async () => {
  const d = await run('E.on("kill", function () { print("kill"); }); E.on("init", function () { print("init"); }); var n = require("Storage").read("n") || "0"; require("Storage").write("n", String(+n + 1)); print("run " + n); setInterval(function () {}, 1000); if (n === "0") setTimeout(load, 5); else if (n === "1") setTimeout(reset, 5);');
  await d.waitForConsole(/run 1/, 2000);
  await wait(100);
  assert.deepEqual(d.console.filter((l) => /^(run|kill|init)/.test(l)), ["run 0", "init", "kill", "run 1", "init", "kill"]);
  await d.stop();
});

test("watchdog resets an ESP32 that stops kicking; on ESP8266 E.enableWatchdog does nothing (as in Espruino)", async () => {
  const code = 'print("boot"); E.enableWatchdog(0.3, false);';
  const esp32 = await startDevice({ config: { ...CFG, board: "esp32" }, code });
  const esp8266 = await startDevice({ config: CFG, code });
  await wait(1000);
  assert.ok(esp32.console.filter((l) => l === "boot").length >= 2, esp32.console.join("\n"));
  assert.ok(esp32.console.some((l) => /watchdog reset/.test(l)));
  assert.equal(esp8266.console.filter((l) => l === "boot").length, 1);
  await esp32.stop();
  await esp8266.stop();
});

test("a device that kicks its watchdog keeps running", async () => {
  const d = await startDevice({ config: { ...CFG, board: "esp32" }, code: 'print("boot"); E.enableWatchdog(0.3, false); setInterval(function () { E.kickWatchdog(); }, 50);' });
  await wait(800);
  assert.equal(d.console.filter((l) => l === "boot").length, 1);
  await d.stop();
});

test("E helpers and byte strings", async () => {
  const d = await run('print("s " + E.toString([65, 66], "C", new Uint8Array([68])) + " " + E.toUint8Array("AB", [1], 2).length + " " + E.CRC32("hello") + " " + btoa("\\xff\\x00") + " " + (atob("/wA=").charCodeAt(0)) + " " + String.fromCharCode(200).length + " " + getSerial().length);');
  await d.waitForConsole(/^s /, 2000);
  assert.ok(d.console.includes("s ABCD 4 907060870 /wA= 255 1 12"), d.console.join("\n"));
  await d.stop();
});
