/*
 * npm run bench:memory — JsVars used by the firmware on a real Espruino interpreter.
 *
 * Needs ESPRUINO_BIN: Espruino's Linux build, ideally 32-bit with a fixed 1600 JsVars (12-byte JsVars, as on
 * the ESP8266). The interpreter is not in this repo; build it yourself (README "Measuring memory").
 *
 * Scenarios, each against a real Mosquitto on 127.0.0.1:
 *  - firmware: firmware/main.ts bundled as dist/firmware.js is, with the README's reference config (BME280 + pump + two interlocks +
 *    Home Assistant discovery). The Linux build has no BME280 on its I2C bus, so a prelude serves a static
 *    BME280 register file through I2C (its own cost is measured alone and subtracted). MQTT.js switches the
 *    pump ON and OFF while it runs.
 *  - mqtt-app: issue 3's reference app (connect, subscribe one topic, publish a number every 200 ms) built
 *    from bench/mem/mqtt-app.ts with our client. ESPRUINO.md's reference: tinyMQTT peaked at ~250 JsVars.
 * Prints boot, steady-state and peak samples (process.memory().usage, after GC, every 250 ms): the whole
 * device's usage, the interpreter's own JsVars included (about 56 with the probe on the 1600 build), as the
 * goals count them; for the firmware, minus what the I2C prelude itself holds (measured alone).
 * BENCH_DUMP=file writes E.dumpVariables() for bench/memdump.ts (where the JsVars are, as a dominator tree).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { Broker } from "../test/helpers/mosquitto.ts";
import { BoschChip } from "../sim/hw/bosch.ts";
import { espruinoBin, runOnEspruino, memoryProbe, parseProbe, dumpProbe, saveDump } from "./espruino.ts";

const SECONDS = Number(process.env.BENCH_SECONDS || 12);

function bme280Prelude(): string {
  const chip = new BoschChip({ type: "bme280", address: 0x76 });
  chip.temperature = 22.5;
  chip.pressure = 100800;
  chip.humidity = 48;
  // One forced conversion so the data registers hold raw values for those readings.
  chip.write(new Uint8Array([0xf2, 1]));
  chip.write(new Uint8Array([0xf4, 0x25]));
  const start = Date.now();
  while (Date.now() - start < 20) { /* let the model's conversion time pass */ }
  chip.write(new Uint8Array([0xf7]));
  chip.read(8);
  const regs = Buffer.from(chip.regs);
  regs[0xf3] = 0;
  return "var __R=atob('" + regs.toString("base64") + "'),__P=0;" +
    "I2C.prototype.setup=function(){};" +
    "I2C.prototype.writeTo=function(a,d){if(a!==0x76)throw new Error('I2C NACK');__P=typeof d=='number'?d:d[0];};" +
    "I2C.prototype.readFrom=function(a,n){if(a!==0x76)throw new Error('I2C NACK');var u=new Uint8Array(n);for(var i=0;i<n;i++)u[i]=__R.charCodeAt(__P+i);return u;};";
}

function summary(name: string, samples: number[], subtract = 0): string {
  if (!samples.length) return name + ": no samples (did the bundle crash? run with BENCH_VERBOSE=1)";
  const s = samples.map((v) => v - subtract);
  const steady = s.slice(Math.floor(s.length / 2));
  const median = steady.slice().sort((a, b) => a - b)[Math.floor(steady.length / 2)];
  const peak = Math.max(...s);
  return `${name}: boot ${s[0]} JsVars, steady ${median}, peak ${peak} (of 1600: ${(100 - (median / 16)).toFixed(1)}% free in steady state)`;
}

async function firmware(broker: Broker): Promise<void> {
  const config = {
    board: "linux",
    mqtt: { host: "127.0.0.1", port: broker.port, username: "", keepaliveSeconds: 30 },
    device: { id: "bench1", name: "Bench node", prefix: "home" },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 2, sda: "D2", scl: "D3" }],
    pump: { pin: "D17", activeLow: false, maxRunSeconds: 600, minOffSeconds: 1, linkLostOffSeconds: 30,
      interlocks: [{ name: "tank_full", pin: "D22", activeLevel: 1 }, { name: "people_present", pin: "D27", activeLevel: 1 }] },
    homeassistant: { discovery: true }
  };
  const prelude = bme280Prelude();
  const dir = mkdtempSync(join(tmpdir(), "membench-"));
  const preludeOnly = join(dir, "prelude.js");
  writeFileSync(preludeOnly, prelude);
  // What the interpreter itself holds (with the probe) is part of the device's usage; the prelude is not.
  const emptyFile = join(dir, "empty.js");
  writeFileSync(emptyFile, "");
  const empty = parseProbe(await runOnEspruino({ bundle: emptyFile, seconds: 2, append: memoryProbe(250) }));
  const base = parseProbe(await runOnEspruino({ bundle: preludeOnly, seconds: 2, append: memoryProbe(250) }));
  const interpreter = empty.length ? Math.min(...empty) : 0;
  const preludeCost = (base.length ? Math.min(...base) : 0) - interpreter;

  const bundle = join(dir, "fw.js");
  const { readFileSync } = await import("node:fs");
  // Built here, into a file of this run's own (several measurements may run at once from one tree), and
  // checked by the dialect guard like dist/firmware.js.
  const own = "dist/bench-fw-" + process.pid + ".js";
  process.on("exit", () => {
    for (const f of [own, own + ".map"]) if (existsSync(f)) unlinkSync(f);
  });
  execFileSync("node_modules/.bin/rollup", ["-c", "--silent", "-i", "firmware/main.ts", "-o", own], { stdio: "inherit" });
  execFileSync("node_modules/.bin/tsx", ["tools/guard.ts", own], { stdio: "inherit" });
  writeFileSync(bundle, prelude + "\n" + readFileSync(own, "latin1"), "latin1");
  const ha = await mqtt.connectAsync(broker.url);
  let seen = 0;
  await ha.subscribeAsync("home/bench1/#");
  await ha.subscribeAsync("homeassistant/#");
  ha.on("message", () => seen++);
  const timer = setInterval(() => {
    ha.publish("home/bench1/pump/set", Math.random() < 0.5 ? "ON" : "OFF");
  }, 1500);
  const lines = await runOnEspruino({
    bundle, seconds: SECONDS, config, append: memoryProbe(250) + dumpProbe(SECONDS * 1000 - 1500),
    onLine: process.env.BENCH_VERBOSE ? (l) => console.log("  | " + l) : undefined
  });
  clearInterval(timer);
  await ha.endAsync();
  const errors = lines.filter((l) => /Uncaught|MEMORY|Error/.test(l) && !/^\s*\d+,\d+,\d+,/.test(l)); // not the variable dump
  console.log(summary("firmware (BME280 + pump + 2 interlocks + discovery)", parseProbe(lines), preludeCost) +
    `; the interpreter's own ${interpreter} included, the I2C prelude's ${preludeCost} subtracted; ${seen} messages seen by MQTT.js`);
  if (errors.length) console.log("  errors on the device: " + errors.slice(0, 5).join(" | "));
  saveDump(lines);
}

async function mqttApp(broker: Broker): Promise<void> {
  // The TypeScript plugin wants its output inside dist/.
  const bundle = "dist/bench-mqtt-app-" + process.pid + ".js";
  process.on("exit", () => {
    for (const f of [bundle, bundle + ".map"]) if (existsSync(f)) unlinkSync(f);
  });
  execFileSync("node_modules/.bin/rollup", ["-c", "--silent", "-i", "bench/mem/mqtt-app.ts", "-o", bundle], { stdio: "inherit" });
  const lines = await runOnEspruino({
    bundle, seconds: SECONDS, config: { host: "127.0.0.1", port: broker.port }, append: memoryProbe(250) + dumpProbe(SECONDS * 1000 - 1500),
    onLine: process.env.BENCH_VERBOSE ? (l) => console.log("  | " + l) : undefined
  });
  const published = lines.filter((l) => /^published /.test(l)).length;
  console.log(summary("mqtt-app (connect, subscribe, publish every 200 ms)", parseProbe(lines)) + "; reference: tinyMQTT ~250 peak (ESPRUINO.md)" + (published ? "" : ""));
  saveDump(lines);
}

/** Any entry under bench/mem/: `tsx bench/memory.ts entry bench/mem/pump.ts [config.json]`. */
async function entry(broker: Broker, file: string, configFile?: string): Promise<void> {
  // One file per run: several entries may be measured at once from the same tree.
  const bundle = "dist/bench-entry-" + process.pid + ".js";
  execFileSync("node_modules/.bin/rollup", ["-c", "--silent", "-i", file, "-o", bundle], { stdio: "inherit" });
  process.on("exit", () => {
    for (const f of [bundle, bundle + ".map"]) if (existsSync(f)) unlinkSync(f);
  });
  const { readFileSync } = await import("node:fs");
  const config = configFile ? JSON.parse(readFileSync(configFile, "utf8")) : { host: "127.0.0.1", port: broker.port };
  if (config.mqtt && config.mqtt.port === 0) config.mqtt.port = broker.port;
  const lines = await runOnEspruino({
    bundle, seconds: SECONDS, config, append: memoryProbe(250) + dumpProbe(SECONDS * 1000 - 1500),
    onLine: process.env.BENCH_VERBOSE ? (l) => console.log("  | " + l) : undefined
  });
  const errors = lines.filter((l) => /Uncaught|MEMORY|Error/.test(l) && !/^\s*\d+,\d+,\d+,/.test(l)); // not the variable dump
  console.log(summary(file, parseProbe(lines)));
  if (errors.length) console.log("  errors on the device: " + errors.slice(0, 5).join(" | "));
  saveDump(lines);
}

async function main(): Promise<void> {
  const bin = espruinoBin();
  if (!bin) {
    console.log("bench:memory skipped: set ESPRUINO_BIN to Espruino's Linux build (32-bit, 1600 JsVars for ESP8266 figures)");
    return;
  }
  console.log("interpreter: " + bin);
  const broker = await Broker.start();
  try {
    const which = process.argv[2] || "all";
    if (which === "entry") return await entry(broker, process.argv[3], process.argv[4]);
    if (which === "all" || which === "firmware") await firmware(broker);
    if (which === "all" || which === "mqtt-app") await mqttApp(broker);
  } finally {
    await broker.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
