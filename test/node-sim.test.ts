/*
 * The built bundle (dist/firmware.js) in the simulator against a real Mosquitto, seen from MQTT.js as
 * Home Assistant would see it: presence (online, Will on a power cut, offline on a graceful shutdown),
 * readings, sensor errors, pump topics, discovery configs published / removed / resent on Home
 * Assistant's "online". Each test is bounded in time (a few seconds of simulated device time run in real
 * time). Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/node-sim.test.ts
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { Broker } from "./helpers/mosquitto.ts";
import { haExpand } from "./helpers/node-fakes.ts";
import { startDevice, type SimDevice, DEFAULT_BUNDLE } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

let broker: Broker;

before(async () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  broker = await Broker.start();
});
after(async () => {
  await broker.close();
});

interface Msg {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** An MQTT.js client that records everything it gets on `filters`. */
async function watch(filters: string[]): Promise<{ c: MqttClient; msgs: Msg[] }> {
  const c = mqtt.connect(broker.url, { reconnectPeriod: 0, connectTimeout: 5000 });
  const msgs: Msg[] = [];
  c.on("message", (topic, payload, packet) => msgs.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  await c.subscribeAsync(filters, { qos: 1 });
  return { c, msgs };
}

/** The retained messages the broker holds under `filters` (a fresh subscriber, 300 ms of listening). */
async function retained(filters: string[]): Promise<Map<string, string>> {
  const { c, msgs } = await watch(filters);
  await sleep(300);
  await c.endAsync();
  const m = new Map<string, string>();
  for (const x of msgs) if (x.retain) m.set(x.topic, x.payload.toString("utf8"));
  return m;
}



function nodeConfig(id: string, over?: (c: any) => void): any {
  const c: any = {
    board: "esp8266",
    wifi: { ssid: "home", password: "secret" },
    mqtt: { host: "127.0.0.1", port: broker.port, keepaliveSeconds: 5 },
    device: { id: id, name: "Garden tank" },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 60 }],
    pump: {
      pin: "D5",
      maxRunSeconds: 600,
      minOffSeconds: 0,
      interlocks: [
        { name: "tank_full", pin: "D6", activeLevel: 1 },
        { name: "people_present", pin: "D7", activeLevel: 1 }
      ]
    }
  };
  if (over) over(c);
  return c;
}

const DISCOVERY = (id: string) => [
  "homeassistant/sensor/" + id + "_temperature/config",
  "homeassistant/sensor/" + id + "_humidity/config",
  "homeassistant/sensor/" + id + "_pressure/config",
  "homeassistant/switch/" + id + "_pump/config",
  "homeassistant/binary_sensor/" + id + "_tank_full/config",
  "homeassistant/binary_sensor/" + id + "_people_present/config"
];

test("presence: retained online after connect; the Will says offline when the power is cut", { timeout: 20000 }, async () => {
  const { c, msgs } = await watch(["home/p1/status"]);
  const d = await startDevice({ config: nodeConfig("p1") });
  try {
    await until("online", () => msgs.some((m) => m.payload.toString() === "online"), 8000, d);
    assert.equal((await retained(["home/p1/status"])).get("home/p1/status"), "online");
  } finally {
    await d.stop(); // power cut: no DISCONNECT, the broker publishes the Will
  }
  await until("offline (Will)", () => msgs.some((m) => m.payload.toString() === "offline"), 12000);
  assert.equal((await retained(["home/p1/status"])).get("home/p1/status"), "offline");
  await c.endAsync();
});

test("graceful shutdown: pump OFF, offline published by the node, DISCONNECT", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("p2") });
  const { c, msgs } = await watch(["home/p2/#"]);
  try {
    await until("online", () => msgs.some((m) => m.topic === "home/p2/status" && m.payload.toString() === "online"), 8000, d);
    c.publish("home/p2/pump/set", "ON", { qos: 1 });
    await until("pump ON", () => msgs.some((m) => m.topic === "home/p2/pump" && m.payload.toString() === "ON"), 5000, d);
    assert.equal(d.relay(), true);
    const n = msgs.length;
    await d.stop({ graceful: true });
    await until("offline", () => msgs.slice(n).some((m) => m.topic === "home/p2/status" && m.payload.toString() === "offline"), 3000);
    const after = msgs.slice(n).map((m) => m.topic + " " + m.payload.toString());
    assert.ok(after.indexOf("home/p2/pump OFF") >= 0 && after.indexOf("home/p2/pump OFF") < after.indexOf("home/p2/status offline"), after.join("\n"));
    assert.equal((await retained(["home/p2/status", "home/p2/pump"])).get("home/p2/pump"), "OFF");
  } finally {
    await d.stop();
    await c.endAsync();
  }
});

test("readings: temperature, humidity, pressure (hPa) as plain numbers, retained", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("r1"), env: { temperature: 19.3, humidity: 55, pressure: 98765 } });
  try {
    const { c, msgs } = await watch(["home/r1/+"]);
    await until("readings", () => ["temperature", "humidity", "pressure"].every((q) => msgs.some((m) => m.topic === "home/r1/" + q)), 10000, d);
    await c.endAsync();
    const r = await retained(["home/r1/+"]);
    for (const [q, lo, hi] of [["temperature", 10, 30], ["humidity", 30, 80], ["pressure", 950, 1010]] as [string, number, number][]) {
      const v = r.get("home/r1/" + q);
      assert.match(v || "", /^-?\d+\.\d$/, q + " is a plain number with 1 decimal: " + v);
      assert.ok(+v! >= lo && +v! <= hi, q + " " + v + " within " + lo + ".." + hi);
    }
  } finally {
    await d.stop();
  }
});

test("a failing sensor: one error per change of state on the error topic (not retained), no false reading", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("e1") });
  const { c, msgs } = await watch(["home/e1/#"]);
  try {
    await until("first reading", () => msgs.some((m) => m.topic === "home/e1/temperature"), 10000, d);
    d.hw.sensors[0].fail = "timeout";
    await until("error", () => msgs.some((m) => m.topic === "home/e1/error"), 5000, d);
    const mark = msgs.length;
    await sleep(3500); // three more failed intervals
    const errors = msgs.filter((m) => m.topic === "home/e1/error");
    assert.equal(errors.length, 1, "once per change of state, not per failure");
    assert.equal(errors[0].retain, false);
    const e = JSON.parse(errors[0].payload.toString());
    assert.equal(e.source, "bme280");
    assert.equal(typeof e.message, "string");
    assert.equal(msgs.slice(mark).filter((m) => m.topic === "home/e1/temperature").length, 0, "nothing published as a reading while failing");
    d.hw.sensors[0].fail = null;
    await until("readings again", () => msgs.slice(mark).some((m) => m.topic === "home/e1/temperature"), 5000, d);
    assert.ok(await d.waitForConsole(/sensor bme280: ok again/, 1000));
  } finally {
    await d.stop();
    await c.endAsync();
  }
});

test("pump topics: state and attributes retained, interlocks, refused commands on the error topic", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("u1") });
  const { c, msgs } = await watch(["home/u1/#"]);
  try {
    await until("interlocks", () => msgs.some((m) => m.topic === "home/u1/interlock/people_present"), 8000, d);
    const r = await retained(["home/u1/#"]);
    assert.equal(r.get("home/u1/pump"), "OFF");
    assert.equal(JSON.parse(r.get("home/u1/pump/attributes")!).reason, "boot");
    assert.equal(r.get("home/u1/interlock/people_present"), "OFF");
    d.setInterlock("people_present", true);
    await until("interlock ON", () => msgs.some((m) => m.topic === "home/u1/interlock/people_present" && m.payload.toString() === "ON"), 3000, d);
    c.publish("home/u1/pump/set", "ON", { qos: 1 });
    await until("refusal", () => msgs.some((m) => m.topic === "home/u1/error"), 3000, d);
    const e = JSON.parse(msgs.find((m) => m.topic === "home/u1/error")!.payload.toString());
    assert.equal(e.source, "pump");
    assert.match(e.message, /people_present/);
    assert.equal(d.relay(), false);
  } finally {
    await d.stop();
    await c.endAsync();
  }
});

test("discovery: six retained configs, readable by Home Assistant, pointing at the node's topics", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("h1") });
  const { c, msgs } = await watch(["homeassistant/+/+/config"]);
  try {
    await until("six configs", () => DISCOVERY("h1").every((t) => msgs.some((m) => m.topic === t)), 10000, d);
    const r = await retained(["homeassistant/+/+/config"]);
    const t = haExpand(r.get("homeassistant/sensor/h1_temperature/config")!);
    assert.equal(t.state_topic, "home/h1/temperature");
    assert.equal(t.unit_of_measurement, "°C", "UTF-8 degree sign on the wire");
    assert.equal(t.availability_topic, "home/h1/status");
    assert.equal(t.device.identifiers[0], "h1");
    assert.equal(t.device.model, "NodeMCU v1 (ESP8266)");
    const s = haExpand(r.get("homeassistant/switch/h1_pump/config")!);
    assert.equal(s.command_topic, "home/h1/pump/set");
    assert.equal(s.state_topic, "home/h1/pump");
    assert.equal(s.json_attributes_topic, "home/h1/pump/attributes");
    assert.equal(haExpand(r.get("homeassistant/binary_sensor/h1_tank_full/config")!).state_topic, "home/h1/interlock/tank_full");
  } finally {
    await d.stop();
    await c.endAsync();
  }
});

test("discovery: a part taken out of the config is removed (empty retained payload) at the next boot", { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "node-sim-"));
  try {
    const d1 = await startDevice({ config: nodeConfig("h2"), storageDir: dir });
    const { c, msgs } = await watch(["homeassistant/+/+/config"]);
    await until("six configs", () => DISCOVERY("h2").every((t) => msgs.some((m) => m.topic === t)), 10000, d1);
    await sleep(500); // the round is recorded in Storage once the last config was accepted
    await d1.stop();
    const gone = "homeassistant/binary_sensor/h2_people_present/config";
    assert.ok((await retained(["homeassistant/+/+/config"])).has(gone));

    const d2 = await startDevice({ config: nodeConfig("h2", (cfg) => cfg.pump.interlocks.pop()), storageDir: dir });
    try {
      await until("removal", () => msgs.some((m) => m.topic === gone && m.payload.length === 0), 10000, d2);
      await until("round done", () => msgs.filter((m) => m.topic === "homeassistant/binary_sensor/h2_tank_full/config").length >= 2, 10000, d2);
      const r = await retained(["homeassistant/+/+/config"]);
      assert.equal(r.has(gone), false, "the broker no longer holds the removed config");
      assert.ok(r.has("homeassistant/binary_sensor/h2_tank_full/config"));
    } finally {
      await d2.stop();
      await c.endAsync();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("discovery: sent again 1-5 s after Home Assistant announces online", { timeout: 30000 }, async () => {
  const d = await startDevice({ config: nodeConfig("h3") });
  const { c, msgs } = await watch(["homeassistant/+/+/config"]);
  try {
    await until("first round", () => DISCOVERY("h3").every((t) => msgs.some((m) => m.topic === t)), 10000, d);
    await sleep(500);
    const mark = msgs.length;
    c.publish("homeassistant/status", "offline", { qos: 1 });
    await sleep(1500);
    assert.equal(msgs.length, mark, "offline: nothing resent");
    const t0 = Date.now();
    c.publish("homeassistant/status", "online", { qos: 1 });
    await until("resend", () => msgs.slice(mark).some((m) => m.topic === DISCOVERY("h3")[0]), 7000, d);
    const waited = Date.now() - t0;
    assert.ok(waited >= 900, "after a delay (1-5 s), not at once: " + waited + " ms");
    await until("whole round", () => DISCOVERY("h3").every((t) => msgs.slice(mark).some((m) => m.topic === t)), 5000, d);
  } finally {
    await d.stop();
    await c.endAsync();
  }
});
