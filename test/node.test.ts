/*
 * The node (firmware/node/node.ts + publisher.ts) against a fake MQTT client, fake pump and scripted
 * sensors, on a fake clock: presence, readings through the filters, errors once per change of state,
 * pump topics and commands, republish on reconnect, graceful shutdown.
 * Run: node --import tsx --test test/node.test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeApp, R_SHUTDOWN, SENSOR_FIRST_MS, SENSOR_STAGGER_MS } from "../firmware/node/node.ts";
import { formatNumber } from "../firmware/node/publisher.ts";
import { GAP_MS } from "../firmware/node/discovery.ts";
import { FakeClock } from "./helpers/fakeclock.ts";
import { FakeClient, FakePump, ScriptedSensor, sampleRaw, config, nodeParts } from "./helpers/node-fakes.ts";
import type { Sample, Sensor } from "../firmware/types.ts";

const GOOD: Sample = { temperature: 21.46, humidity: 40.04, pressure: 101325 };
/** Just after the first read of every sensor (two sensors at most here) has answered. */
const FIRST_READS_MS = SENSOR_FIRST_MS + SENSOR_STAGGER_MS + 10;

function setup(raw = sampleRaw(), fallback: Sample | Error = GOOD) {
  var clock = new FakeClock();
  var cfg = config(raw);
  var lines: string[] = [];
  var client = new FakeClient(clock);
  var sensors: ScriptedSensor[] = [];
  for (var i = 0; i < cfg.sensors.length; i++) sensors.push(new ScriptedSensor(clock, fallback));
  var node = new NodeApp(cfg, nodeParts({ clock, client, lines, sensors: sensors.map((x) => () => x) }));
  var pump = cfg.pump ? new FakePump() : null;
  if (pump) node.pump = pump;
  return { clock, cfg, node, pump, client, sensors, lines };
}

function payloads(client: FakeClient, topic: string): string[] {
  return client.published.filter((p) => p.topic === topic).map((p) => p.payload);
}

/* What the node published under its own base (discovery configs left out). */
function nodeTopics(client: FakeClient): string[] {
  return client.topics().filter((t) => !t.startsWith("homeassistant/"));
}

test("topic strings of the sample config: Will, subscriptions and every publish", () => {
  var { client, node, clock, sensors } = setup();
  assert.equal(node.base, "home/node1/");
  assert.equal(client.willTopic, "home/node1/status");
  assert.deepEqual(client.subscribed.map((x) => x.topic), ["home/node1/pump/set", "homeassistant/status"]);
  sensors[0].results = [new Error("no answer")];
  client.up();
  node.onChange(true, "command");
  node.onRefused("already on");
  node.onInterlock("tank_full", true);
  node.onInterlock("people_present", false);
  clock.tick(FIRST_READS_MS + 30000); // the first read fails, the second one publishes
  node.shutdown();
  assert.deepEqual(nodeTopics(client), [
    "home/node1/status",
    "home/node1/pump",
    "home/node1/pump/attributes",
    "home/node1/error",
    "home/node1/pump/attributes",
    "home/node1/interlock/tank_full",
    "home/node1/interlock/people_present",
    "home/node1/error",
    "home/node1/temperature",
    "home/node1/humidity",
    "home/node1/pressure",
    "home/node1/status"
  ]);
});

test("several sensors get their own topic level; a custom prefix is used everywhere; BMP280 has no humidity, DHT22 no pressure", () => {
  var raw = sampleRaw();
  raw.device.prefix = "garden/nodes";
  raw.sensors = [
    { type: "bmp280", name: "attic", address: 118 },
    { type: "dht22", name: "cellar", pin: "D1" }
  ];
  var { client, clock, node } = setup(raw);
  assert.equal(client.willTopic, "garden/nodes/node1/status");
  client.up();
  clock.tick(FIRST_READS_MS);
  node.onInterlock("tank_full", true);
  node.onChange(false, "boot");
  assert.deepEqual(nodeTopics(client), [
    "garden/nodes/node1/status",
    "garden/nodes/node1/attic/temperature",
    "garden/nodes/node1/attic/pressure",
    "garden/nodes/node1/cellar/temperature",
    "garden/nodes/node1/cellar/humidity",
    "garden/nodes/node1/interlock/tank_full",
    "garden/nodes/node1/pump",
    "garden/nodes/node1/pump/attributes"
  ]);
});

test("formatNumber: fixed decimals, never -0", () => {
  assert.equal(formatNumber(21.5, 1), "21.5");
  assert.equal(formatNumber(21, 2), "21.00");
  assert.equal(formatNumber(-0.04, 1), "0.0");
  assert.equal(formatNumber(-0, 0), "0");
  assert.equal(formatNumber(-3.25, 1), "-3.3");
  assert.equal(formatNumber(1013.25, 0), "1013");
  assert.equal(formatNumber(21.5, 0), "22", "rounds (Espruino's own toFixed would truncate to 21)");
  assert.equal(formatNumber(999.96, 1), "1000.0");
  assert.equal(formatNumber(0.05, 3), "0.050");
  assert.equal(formatNumber(-1008.2, 2), "-1008.20");
});

test("formatNumber: the same text as toFixed for readings the filters rounded (spec toFixed on Node)", () => {
  var seed = 12345;
  for (var i = 0; i < 20000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    var d = i % 4;
    var v = Math.round(((seed / 2147483648) * 2400 - 700) * Math.pow(10, d)) / Math.pow(10, d);
    var expected = (Math.round(v * Math.pow(10, d)) === 0 ? 0 : v).toFixed(d);
    assert.equal(formatNumber(v, d), expected, v + " with " + d + " decimals");
  }
});

test("the node subscribes pump/set and homeassistant/status (QoS 1)", () => {
  var { client } = setup();
  assert.deepEqual(client.subscribed, [{ topic: "home/node1/pump/set", qos: 1 }, { topic: "homeassistant/status", qos: 1 }]);
  var raw = sampleRaw();
  raw.pump = undefined;
  raw.homeassistant.discovery = false;
  assert.deepEqual(setup(raw).client.subscribed, []);
});

test("connect: online retained QoS 1 first, then pump state, attributes and interlocks, then discovery", () => {
  var { client, node, pump } = setup();
  node.onChange(false, "boot");
  node.onInterlock("tank_full", true);
  node.onInterlock("people_present", false);
  assert.equal(client.published.length, 0, "nothing is published while offline");
  client.up();
  var first = client.published[0];
  assert.deepEqual([first.topic, first.payload, first.qos, first.retain], ["home/node1/status", "online", 1, true]);
  assert.deepEqual(client.published.slice(1, 5).map((p) => [p.topic, p.payload, p.retain]), [
    ["home/node1/pump", "OFF", true],
    ["home/node1/pump/attributes", '{"reason":"boot"}', true],
    ["home/node1/interlock/tank_full", "ON", true],
    ["home/node1/interlock/people_present", "OFF", true]
  ]);
  assert.equal(client.published[5].topic, "homeassistant/sensor/node1_temperature/config");
  assert.deepEqual(pump!.calls, ["linkUp"]);
});

test("link lost: pump.linkDown, discovery stops; reconnect republishes everything", () => {
  var { client, node, pump, clock } = setup();
  node.onChange(false, "boot");
  client.up();
  clock.tick(GAP_MS);
  client.down("keepalive timeout");
  assert.deepEqual(pump!.calls, ["linkUp", "linkDown"]);
  var before = client.published.length;
  clock.tick(GAP_MS * 20);
  assert.equal(client.published.length, before, "no discovery while down");
  client.clear();
  client.up();
  assert.deepEqual(client.topics().slice(0, 3), ["home/node1/status", "home/node1/pump", "home/node1/pump/attributes"]);
});

test("pump events publish state (retained) and attributes; refusals go to the error topic", () => {
  var { client, node } = setup();
  client.up();
  client.clear();
  node.onChange(true, "command");
  // State is QoS 0 retained: republished in full at every connect, it never fills the QoS 1 in-flight list.
  assert.deepEqual(client.published.map((p) => [p.topic, p.payload, p.qos, p.retain]), [
    ["home/node1/pump", "ON", 0, true],
    ["home/node1/pump/attributes", '{"reason":"boot"}', 0, true]
  ]);
  client.clear();
  node.onRefused('interlock "tank_full" is active');
  var e = client.published[0];
  assert.equal(e.topic, "home/node1/error");
  assert.equal(e.retain, false);
  assert.deepEqual(JSON.parse(e.payload), { source: "pump", message: 'interlock "tank_full" is active' });
  client.clear();
  node.onInterlock("people_present", true);
  assert.deepEqual(client.published.map((p) => [p.topic, p.payload, p.qos, p.retain]), [["home/node1/interlock/people_present", "ON", 0, true]]);
});

test("pump/set messages reach pump.command with their retained flag; other topics do not", () => {
  var { client, pump } = setup();
  client.up();
  client.onMessage("home/node1/pump/set", '{"state":"ON","seconds":120}', false, 1, false);
  client.onMessage("home/node1/pump/set", "ON", true, 1, false);
  client.onMessage("home/node1/pump/sett", "ON", false, 1, false);
  assert.deepEqual(pump!.calls.filter((c) => c.startsWith("command")), ['command {"state":"ON","seconds":120} false', "command ON true"]);
});

test("homeassistant/status online starts a discovery round after the random delay", (t) => {
  t.mock.method(Math, "random", () => 0);
  var { client, clock } = setup();
  client.up();
  clock.tick(GAP_MS * 20);
  client.clear();
  client.onMessage("homeassistant/status", "online", false, 1, false);
  clock.tick(999);
  assert.equal(client.published.filter((p) => p.topic.startsWith("homeassistant/")).length, 0);
  clock.tick(1 + GAP_MS * 20);
  assert.equal(client.published.filter((p) => p.topic.startsWith("homeassistant/")).length, 6);
});

test("readings: filtered, rounded, in hPa, retained, at the sensor's interval; pump.sensorOk on each good read", () => {
  var { client, sensors, clock, pump } = setup();
  client.up();
  clock.tick(FIRST_READS_MS);
  assert.deepEqual(client.published.filter((p) => p.topic.startsWith("home/")).slice(-3).map((p) => [p.topic, p.payload, p.retain]), [
    ["home/node1/temperature", "21.5", true],
    ["home/node1/humidity", "40.0", true],
    ["home/node1/pressure", "1013.3", true]
  ]);
  assert.equal(sensors[0].samples, 1);
  clock.tick(30000);
  assert.equal(sensors[0].samples, 2, "next read one interval later");
  assert.ok(pump!.calls.filter((c) => c === "sensorOk bme280").length === 2);
});

test("a failed read publishes no reading and one error per change of state; other sensors go on", () => {
  var raw = sampleRaw();
  raw.sensors = [
    { type: "bme280", name: "a", address: 118, intervalSeconds: 10, delta: { temperature: 0, humidity: 0, pressure: 0 } },
    { type: "bme280", name: "b", address: 119, intervalSeconds: 10 }
  ];
  var { client, sensors, clock, lines } = setup(raw);
  var timeout = new Error("BME280 at 0x76: no answer");
  sensors[0].results = [timeout, timeout, timeout, new Error("BME280 at 0x76: chip id 0x00, expected 0x60"), GOOD, timeout];
  client.up();
  clock.tick(FIRST_READS_MS);
  clock.tick(10000 * 5);
  var errors = payloads(client, "home/node1/error").map((p) => JSON.parse(p));
  assert.deepEqual(errors, [
    { source: "a", message: "BME280 at 0x76: no answer" },
    { source: "a", message: "BME280 at 0x76: chip id 0x00, expected 0x60" },
    { source: "a", message: "BME280 at 0x76: no answer" }
  ]);
  for (var p of client.published) if (p.topic === "home/node1/error") assert.equal(p.retain, false);
  assert.deepEqual(payloads(client, "home/node1/a/temperature"), ["21.5"], "only the one good read");
  assert.equal(payloads(client, "home/node1/b/temperature").length, 6, "sensor b went on (delta 0: every reading)");
  assert.equal(sensors[1].samples, 6);
  assert.ok(lines.includes("sensor a: ok again"));
});

test("an error while offline is published once the link is up", () => {
  var { client, sensors, clock } = setup();
  sensors[0].results = [new Error("no answer")];
  clock.tick(FIRST_READS_MS);
  assert.equal(client.published.length, 0);
  client.up();
  assert.deepEqual(JSON.parse(client.last("home/node1/error")!.payload), { source: "bme280", message: "no answer" });
  client.clear();
  client.down();
  client.up();
  assert.equal(client.last("home/node1/error"), undefined, "sent once only");
});

test("a sensor whose constructor throws is built again at each interval", () => {
  var clock = new FakeClock();
  var client = new FakeClient(clock);
  var tries = 0;
  var sensor = new ScriptedSensor(clock, GOOD);
  var make = (): Sensor => {
    if (++tries < 3) throw new Error("BME280 at 0x76: chip id 0xff, expected 0x60");
    return sensor;
  };
  new NodeApp(config(sampleRaw()), nodeParts({ clock, client, sensors: [make] }));
  client.up();
  clock.tick(SENSOR_FIRST_MS + 10 + 30000 * 2);
  assert.equal(tries, 3);
  assert.equal(payloads(client, "home/node1/error").length, 1);
  assert.deepEqual(payloads(client, "home/node1/temperature"), ["21.5"]);
});

test("readings are published again after a reconnect even without change (broker may have lost them)", () => {
  var raw = sampleRaw();
  raw.sensors[0].delta = { temperature: 5, humidity: 5, pressure: 5 };
  raw.sensors[0].heartbeatSeconds = 0;
  var { client, clock } = setup(raw);
  client.up();
  clock.tick(FIRST_READS_MS);
  assert.equal(payloads(client, "home/node1/temperature").length, 1);
  clock.tick(30000);
  assert.equal(payloads(client, "home/node1/temperature").length, 1, "no change: not republished");
  client.down();
  client.up();
  clock.tick(30000);
  assert.equal(payloads(client, "home/node1/temperature").length, 2);
});

test("shutdown: pump off, retained offline, graceful end; timers stopped", () => {
  var { client, node, pump, clock, sensors } = setup();
  client.up();
  clock.tick(GAP_MS * 20);
  client.clear();
  node.shutdown();
  assert.ok(pump!.calls.includes("allOff " + R_SHUTDOWN));
  var off = client.last("home/node1/status")!;
  assert.deepEqual([off.payload, off.qos, off.retain], ["offline", 1, true]);
  assert.equal(client.ended, 1);
  var n = sensors[0].samples;
  clock.tick(120000);
  assert.equal(sensors[0].samples, n);
  assert.equal(sensors[0].closed, 1, "the driver is closed");
});

test("log lines never carry credentials", () => {
  var { client, lines } = setup();
  client.up();
  client.down("connection refused: not authorized");
  client.onError("connection refused: not authorized");
  for (var l of lines) assert.ok(!/secret/.test(l), l);
  assert.ok(lines.includes("mqtt: connected"));
  assert.ok(lines.includes("mqtt: closed (connection refused: not authorized)"));
  assert.ok(lines.includes("mqtt: connection refused: not authorized"), "client errors are logged with the mqtt: prefix");
});

test("a read still running at the next interval is not started twice", () => {
  var clock = new FakeClock();
  var pending: ((e: Error | null, s?: Sample) => void)[] = [];
  var driver: Sensor = { sample: (cb) => { pending.push(cb); }, close: () => {} };
  new NodeApp(config(sampleRaw()), nodeParts({ clock, client: new FakeClient(clock), sensors: [() => driver] }));
  clock.tick(SENSOR_FIRST_MS + 30000 * 3);
  assert.equal(pending.length, 1, "driver contract: one sample at a time");
  pending[0](null, GOOD);
  clock.tick(30000);
  assert.equal(pending.length, 2);
});
