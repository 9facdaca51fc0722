/*
 * No credentials anywhere they could leak: not in the bundle (dist/firmware.js holds no password from any
 * config the repository ships or the tests use), not on the device's console, not in anything it
 * publishes. The simulated node runs against the documented Mosquitto setup with its own credentials
 * while Home Assistant's user listens to "#"; the node goes through boot, discovery, readings, commands
 * obeyed and refused, a sensor failure, a Wifi drop, a broker restart and a graceful shutdown, and a second
 * device tries a wrong password. Every console line and every payload and topic is searched for both
 * passwords (MQTT and Wifi), as text and base64.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/credentials.test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { startSecureBroker } from "./helpers/secure-broker.ts";
import { startDevice, DEFAULT_BUNDLE, ROOT, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

const MQTT_PASSWORD = "Mq77-s3cret-pw";
const WIFI_PASSWORD = "W1fi-s3cret-pw";
const WRONG_PASSWORD = "Wr0ng-s3cret-pw";



/** Where a secret might show: as is, and base64 (a careless "encode" of it). */
function leaks(text: string, secrets: string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    if (text.indexOf(s) >= 0) found.push(s);
    if (text.indexOf(Buffer.from(s).toString("base64").replace(/=+$/, "")) >= 0) found.push(s + " (base64)");
  }
  return found;
}

/** Password values in the repository's example configs (README, sim demo, deploy docs, tools). */
function shippedPasswords(): string[] {
  const out = new Set<string>();
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      if (f === "node_modules" || f === "dist" || f.startsWith(".")) continue;
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(md|json|ts|sh|conf)$/.test(f)) files.push(p);
    }
  };
  for (const d of ["sim", "tools", "deploy", "boards", "test"]) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  files.push(join(ROOT, "README.md"));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/"?password"?\s*:\s*"([^"\s]{4,})"/g)) out.add(m[1]);
  }
  return [...out];
}

test("the bundle contains no password from any config in the repository or the tests", () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  const bundle = readFileSync(DEFAULT_BUNDLE, "latin1");
  const secrets = [...shippedPasswords(), MQTT_PASSWORD, WIFI_PASSWORD];
  assert.ok(secrets.length >= 3, "found the example passwords to look for: " + secrets.join(", "));
  assert.deepEqual(leaks(bundle, secrets), []);
});

test("no password on the node's console or in anything it publishes, through faults and a shutdown", { timeout: 60000 }, async () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  const sb = await startSecureBroker({ cred1: MQTT_PASSWORD, homeassistant: "ha-pw" });
  const seen: string[] = [];
  const ha = mqtt.connect({ host: "127.0.0.1", port: sb.port, username: "homeassistant", password: "ha-pw", reconnectPeriod: 300 });
  ha.on("connect", () => ha.subscribe("#", { qos: 1 }));
  ha.on("message", (topic, p) => seen.push(topic + " " + p.toString("latin1")));
  let d: SimDevice | null = null;
  let intruder: SimDevice | null = null;
  try {
    await until("Home Assistant side connected", () => ha.connected, 5000);
    const cfg = {
      board: "esp8266",
      wifi: { ssid: "home", password: WIFI_PASSWORD },
      mqtt: { host: "127.0.0.1", port: sb.port, username: "cred1", password: MQTT_PASSWORD, keepaliveSeconds: 5 },
      device: { id: "cred1", name: "Credentials" },
      sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
      pump: { pin: "D5", maxRunSeconds: 60, minOffSeconds: 0, linkLostOffSeconds: 1, interlocks: [{ name: "tank_full", pin: "D6", activeLevel: 1 }] },
      homeassistant: { discovery: true }
    };
    d = await startDevice({ config: cfg, ap: { ssid: "home", password: WIFI_PASSWORD } });
    const dev = d;
    const has = (re: RegExp) => seen.some((l) => re.test(l));
    await until("online", () => has(/^home\/cred1\/status online$/), 10000, dev);
    await until("discovery and readings", () => has(/^homeassistant\/switch\/cred1_pump\/config /) && has(/^home\/cred1\/temperature /), 10000, dev);
    ha.publish("home/cred1/pump/set", "ON", { qos: 1 });
    await until("pump ON", () => dev.relay() === true, 5000, dev);
    ha.publish("home/cred1/pump/set", "{\"state\":\"ON\",\"password\":\"" + "x" + "\"}", { qos: 1 });
    await until("a refusal", () => has(/^home\/cred1\/error /), 5000, dev);
    dev.hw.sensors[0].fail = "timeout";
    await until("sensor error", () => has(/"source":"bme280"/), 5000, dev);
    dev.hw.sensors[0].fail = null;
    const n = seen.length;
    dev.wifiDrop(2);
    await until("back after the Wifi drop", () => seen.slice(n).some((l) => l === "home/cred1/status online"), 20000, dev);
    const m = seen.length;
    await sb.broker.restart();
    await until("back after a broker restart", () => seen.slice(m).some((l) => l === "home/cred1/status online"), 20000, dev);
    // A device with the wrong password: the refusal is printed without it.
    intruder = await startDevice({ config: { ...cfg, device: { id: "cred2", name: "Wrong" }, mqtt: { ...cfg.mqtt, username: "cred1", password: WRONG_PASSWORD } } });
    const intr = intruder;
    await until("the intruder refused", () => intr.console.some((l) => /not authori[sz]ed|bad user name or password/i.test(l)), 10000, intr);
    const k = seen.length;
    await dev.stop({ graceful: true });
    d = null;
    await until("offline after the shutdown", () => seen.slice(k).some((l) => l === "home/cred1/status offline"), 5000);

    const secrets = [MQTT_PASSWORD, WIFI_PASSWORD, WRONG_PASSWORD];
    assert.ok(seen.length > 20, "enough traffic was seen: " + seen.length + " messages");
    assert.deepEqual(leaks(seen.join("\n"), secrets), [], "no password in any topic or payload");
    assert.deepEqual(leaks(dev.console.join("\n"), secrets), [], "no password on the node's console:\n" + dev.console.join("\n"));
    assert.deepEqual(leaks(intr.console.join("\n"), secrets), [], "no password on the refused device's console");
  } finally {
    if (d) await d.stop();
    if (intruder) await intruder.stop();
    await ha.endAsync(true);
    await sb.broker.close();
  }
});
