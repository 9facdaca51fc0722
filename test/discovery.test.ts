/*
 * Home Assistant discovery (firmware/node/discovery.ts, rounds run by firmware/node/node.ts): exact
 * payloads, topics, the UTF-8 degree sign, the removal list kept in Storage, one-at-a-time sending and the
 * resend after Home Assistant's "online".
 * Run: node --import tsx --test test/discovery.test.ts
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { discoveryConfig, DISCOVERY_FILE, GAP_MS, RETRY_MS, RESEND_MIN_MS } from "../firmware/node/discovery.ts";
import { NodeApp } from "../firmware/node/node.ts";
import { VERSION } from "../firmware/constants.ts";
import { FakeClock } from "./helpers/fakeclock.ts";
import { FakeClient, FakeStorage, ScriptedSensor, sampleRaw, config, haExpand, nodeParts } from "./helpers/node-fakes.ts";

const MODEL = "NodeMCU v1 (ESP8266)";

/*
 * A node with discovery as the tests drive it: client.connected + the node's onConnect start a round
 * (start), a lost link stops it (stop), a message on homeassistant/status is Home Assistant's birth or
 * will (haStatus). `client` records only what discovery sends (topics under homeassistant/).
 */
/* The resend delay draws from Math.random (the node keeps no reference to it): set per test, restored after. */
const realRandom = Math.random;
afterEach(() => {
  Math.random = realRandom;
});

function setup(raw: any, storage = new FakeStorage(), random = () => 0) {
  Math.random = random;
  var clock = new FakeClock();
  var cfg = config(raw);
  var client = new FakeClient(clock);
  var sensors = cfg.sensors.map(() => new ScriptedSensor(clock, { temperature: 20, humidity: 50, pressure: 100000 }));
  var node = new NodeApp(cfg, nodeParts({ clock, client, storage, model: MODEL, sensors: sensors.map((s) => () => s) }));
  var publish = client.publish.bind(client);
  client.publish = (topic, payload, qos, retain) => (topic.startsWith("homeassistant/") ? publish(topic, payload, qos, retain) : true);
  var d = {
    topic: (i: number) => discoveryConfig(node, i)![0],
    payload: (i: number) => discoveryConfig(node, i)![1],
    topics: () => {
      var list: string[] = [];
      for (var e, i = 0; (e = discoveryConfig(node, i)); i++) list.push(e[0]);
      return list;
    },
    count: () => d.topics().length,
    get removals() {
      return node._dRemove || [];
    },
    busy: () => node._dTimer !== undefined,
    start: () => {
      client.connected = true;
      client.onConnect(false);
    },
    stop: () => {
      client.connected = false;
      client.onClose("closed");
    },
    haStatus: (payload: string) => client.onMessage("homeassistant/status", payload, false, 1, false)
  };
  return { clock, cfg, node, client, d, storage };
}

/* What every config ends with, abbreviated as sent. */
const TAIL =
  ',"avty_t":"~/status","pl_avail":"online","pl_not_avail":"offline",' +
  '"dev":{"ids":["node1"],"name":"Garden tank","mdl":"NodeMCU v1 (ESP8266)","sw":"' + VERSION + '","mf":"pumpnode"},' +
  '"o":{"name":"pumpnode","sw":"' + VERSION + '"}';
/* The same blocks as Home Assistant reads them. */
const COMMON = {
  availability_topic: "home/node1/status",
  payload_available: "online",
  payload_not_available: "offline",
  device: { identifiers: ["node1"], name: "Garden tank", model: "NodeMCU v1 (ESP8266)", sw_version: VERSION, manufacturer: "pumpnode" },
  origin: { name: "pumpnode", sw_version: VERSION }
};

test("topics of the sample node: three sensors, the pump switch, two interlocks", () => {
  var { d } = setup(sampleRaw());
  assert.deepEqual(d.topics(), [
    "homeassistant/sensor/node1_temperature/config",
    "homeassistant/sensor/node1_humidity/config",
    "homeassistant/sensor/node1_pressure/config",
    "homeassistant/switch/node1_pump/config",
    "homeassistant/binary_sensor/node1_tank_full/config",
    "homeassistant/binary_sensor/node1_people_present/config"
  ]);
});

test("exact temperature config, with the degree sign as UTF-8 bytes and expire_after 3 x heartbeat", () => {
  var { d } = setup(sampleRaw());
  assert.equal(
    d.payload(0),
    '{"~":"home/node1","uniq_id":"node1_temperature","def_ent_id":"sensor.node1_temperature","name":"Temperature",' +
      '"stat_t":"~/temperature","dev_cla":"temperature","unit_of_meas":"\xC2\xB0C",' +
      '"stat_cla":"measurement","sug_dsp_prc":1,"exp_aft":900' + TAIL + "}"
  );
  // On the wire (one byte per char) this is UTF-8 "°C": what Home Assistant compares with.
  var bytes = Buffer.from(d.payload(0), "latin1");
  assert.ok(bytes.includes(Buffer.from([0xc2, 0xb0, 0x43])));
  assert.deepEqual(haExpand(bytes.toString("utf8")), {
    unique_id: "node1_temperature",
    default_entity_id: "sensor.node1_temperature",
    name: "Temperature",
    state_topic: "home/node1/temperature",
    device_class: "temperature",
    unit_of_measurement: "°C",
    state_class: "measurement",
    suggested_display_precision: 1,
    expire_after: 900,
    ...COMMON
  });
  assert.ok(bytes.length < 520, "one config stays small on the ESP8266: " + bytes.length + " bytes");
});

test("humidity and pressure configs: units %, hPa; device classes", () => {
  var { d } = setup(sampleRaw());
  var h = haExpand(d.payload(1));
  assert.equal(h.device_class, "humidity");
  assert.equal(h.unit_of_measurement, "%");
  assert.equal(h.state_topic, "home/node1/humidity");
  var p = haExpand(d.payload(2));
  assert.equal(p.device_class, "atmospheric_pressure");
  assert.equal(p.unit_of_measurement, "hPa");
  assert.equal(p.state_class, "measurement");
  assert.equal(p.unique_id, "node1_pressure");
});

test("exact pump switch config", () => {
  var { d } = setup(sampleRaw());
  assert.equal(
    d.payload(3),
    '{"~":"home/node1","uniq_id":"node1_pump","def_ent_id":"switch.node1_pump","name":"Pump","ic":"mdi:water-pump",' +
      '"cmd_t":"~/pump/set","stat_t":"~/pump","pl_on":"ON","pl_off":"OFF","json_attr_t":"~/pump/attributes"' + TAIL + "}"
  );
  assert.deepEqual(haExpand(d.payload(3)), {
    unique_id: "node1_pump",
    default_entity_id: "switch.node1_pump",
    name: "Pump",
    icon: "mdi:water-pump",
    command_topic: "home/node1/pump/set",
    state_topic: "home/node1/pump",
    payload_on: "ON",
    payload_off: "OFF",
    json_attributes_topic: "home/node1/pump/attributes",
    ...COMMON
  });
});

test("exact interlock binary_sensor config", () => {
  var { d } = setup(sampleRaw());
  assert.equal(
    d.payload(4),
    '{"~":"home/node1","uniq_id":"node1_tank_full","def_ent_id":"binary_sensor.node1_tank_full","name":"Interlock tank_full",' +
      '"stat_t":"~/interlock/tank_full","pl_on":"ON","pl_off":"OFF"' + TAIL + "}"
  );
  assert.equal(haExpand(d.payload(5)).state_topic, "home/node1/interlock/people_present");
});

test("several sensors: <id>_<sensor>_<quantity>, per-sensor state topics; BMP280 has no humidity, DHT22 no pressure", () => {
  var raw = sampleRaw();
  raw.sensors = [
    { type: "bmp280", name: "attic", address: 118, intervalSeconds: 60, heartbeatSeconds: 0 },
    { type: "dht22", name: "cellar", pin: "D1", intervalSeconds: 30, heartbeatSeconds: 10 }
  ];
  raw.pump = undefined;
  var { d } = setup(raw);
  assert.deepEqual(d.topics(), [
    "homeassistant/sensor/node1_attic_temperature/config",
    "homeassistant/sensor/node1_attic_pressure/config",
    "homeassistant/sensor/node1_cellar_temperature/config",
    "homeassistant/sensor/node1_cellar_humidity/config"
  ]);
  var a = haExpand(d.payload(0));
  assert.equal(a.state_topic, "home/node1/attic/temperature");
  assert.equal(a.name, "attic temperature");
  assert.equal("expire_after" in a, false, "no heartbeat: no expiry (an unchanged value is not republished)");
  var c = haExpand(d.payload(3));
  assert.equal(c.state_topic, "home/node1/cellar/humidity");
  assert.equal(c.expire_after, 90, "3 x max(interval 30, heartbeat 10)");
});

test("default_entity_id is a valid entity id even when the device id has capitals and dashes", () => {
  var raw = sampleRaw();
  raw.device.id = "Node-1";
  var { d } = setup(raw);
  var p = haExpand(d.payload(0));
  assert.equal(p.unique_id, "Node-1_temperature");
  assert.equal(p.default_entity_id, "sensor.node_1_temperature");
  assert.equal(d.topic(0), "homeassistant/sensor/Node-1_temperature/config");
});

test("the device name is JSON-escaped", () => {
  var raw = sampleRaw();
  raw.device.name = 'Tank "north" \\ 2';
  var { d } = setup(raw);
  assert.equal(haExpand(d.payload(3)).device.name, 'Tank "north" \\ 2');
});

test("one at a time: the next config is sent GAP_MS after the previous was accepted, retained QoS 1", () => {
  var { d, client, clock } = setup(sampleRaw());
  d.start();
  assert.equal(client.published.length, 1);
  clock.tick(GAP_MS - 1);
  assert.equal(client.published.length, 1);
  clock.tick(1);
  assert.equal(client.published.length, 2);
  clock.tick(GAP_MS * 10);
  assert.deepEqual(client.topics(), d.topics());
  assert.deepEqual(client.published.map((p) => p.at), [0, 1, 2, 3, 4, 5].map((i) => i * GAP_MS));
  for (var p of client.published) {
    assert.equal(p.retain, true);
    assert.equal(p.qos, 1);
  }
});

test("a refused publish is retried after RETRY_MS with the same config; nothing else is built meanwhile", () => {
  var { d, client, clock } = setup(sampleRaw());
  client.connected = true;
  var attempts: string[] = [];
  var refuse = 2;
  client.accept = (topic) => {
    attempts.push(topic);
    return topic.indexOf("humidity") < 0 || refuse-- <= 0;
  };
  d.start();
  clock.tick(GAP_MS); // humidity refused
  clock.tick(RETRY_MS - 1);
  assert.equal(attempts.length, 2);
  clock.tick(1); // refused again
  clock.tick(RETRY_MS); // accepted
  assert.deepEqual(attempts.slice(0, 4), [d.topic(0), d.topic(1), d.topic(1), d.topic(1)]);
  clock.tick(GAP_MS * 10);
  assert.deepEqual(client.topics(), d.topics());
});

test("link down stops the round; the next connect starts again from the first config", () => {
  var { d, client, clock } = setup(sampleRaw());
  d.start();
  clock.tick(GAP_MS);
  d.stop();
  clock.tick(GAP_MS * 20);
  assert.equal(client.published.length, 2);
  assert.equal(d.busy(), false);
  client.clear();
  d.start();
  clock.tick(GAP_MS * 20);
  assert.deepEqual(client.topics(), d.topics());
});

test("removal: configs announced last boot but no longer configured get an empty retained payload, then the list is saved", () => {
  var storage = new FakeStorage();
  var first = setup(sampleRaw(), storage);
  first.d.start();
  first.clock.tick(GAP_MS * 20);
  assert.deepEqual(storage.files[DISCOVERY_FILE], first.d.topics());
  assert.equal(storage.writes, 1);

  // Second boot: the BME280 became a DHT22 (no pressure) and an interlock was taken out.
  var raw = sampleRaw();
  raw.sensors = [{ type: "dht22", pin: "D1", intervalSeconds: 30 }];
  raw.pump.interlocks.pop();
  var second = setup(raw, storage);
  assert.deepEqual(second.d.removals, ["homeassistant/sensor/node1_pressure/config", "homeassistant/binary_sensor/node1_people_present/config"]);
  second.d.start();
  second.clock.tick(GAP_MS * 20);
  var sent = second.client.published;
  assert.deepEqual(sent.slice(0, 2).map((p) => [p.topic, p.payload, p.retain]), [
    ["homeassistant/sensor/node1_pressure/config", "", true],
    ["homeassistant/binary_sensor/node1_people_present/config", "", true]
  ]);
  assert.deepEqual(sent.slice(2).map((p) => p.topic), second.d.topics());
  assert.deepEqual(storage.files[DISCOVERY_FILE], second.d.topics());
  assert.equal(storage.writes, 2);
  assert.deepEqual(second.d.removals, []);

  // A reconnect sends the configs only; the file is not written again.
  second.client.clear();
  second.d.start();
  second.clock.tick(GAP_MS * 20);
  assert.deepEqual(second.client.topics(), second.d.topics());
  assert.equal(storage.writes, 2);

  // Third boot, same config: nothing to remove, nothing to write.
  var third = setup(raw, storage);
  assert.deepEqual(third.d.removals, []);
  third.d.start();
  third.clock.tick(GAP_MS * 20);
  assert.equal(storage.writes, 2);
});

test("removal: the file is only written once every removal was accepted", () => {
  var storage = new FakeStorage();
  storage.files[DISCOVERY_FILE] = ["homeassistant/sensor/node1_gone/config"];
  var { d, client, clock } = setup(sampleRaw(), storage);
  d.start();
  d.stop();
  clock.tick(10000);
  assert.equal(storage.writes, 0, "power cut now: next boot still knows what to remove");
  assert.deepEqual(d.removals, ["homeassistant/sensor/node1_gone/config"]);
});

test("discovery turned off: everything announced before is removed, an empty list saved, nothing announced", () => {
  var storage = new FakeStorage();
  var on = setup(sampleRaw(), storage);
  var announced = on.d.topics();
  storage.files[DISCOVERY_FILE] = announced;
  var raw = sampleRaw();
  raw.homeassistant.discovery = false;
  var { d, client, clock } = setup(raw, storage);
  assert.equal(d.count(), 0);
  d.start();
  clock.tick(GAP_MS * 20);
  assert.deepEqual(client.published.map((p) => [p.topic, p.payload]), announced.map((t) => [t, ""]));
  assert.deepEqual(storage.files[DISCOVERY_FILE], []);
});

test("a corrupt ha.json is ignored (no removals, rewritten after the round)", () => {
  var storage = new FakeStorage();
  storage.files[DISCOVERY_FILE] = { not: "a list" };
  var { d, client, clock } = setup(sampleRaw(), storage);
  assert.deepEqual(d.removals, []);
  d.start();
  clock.tick(GAP_MS * 20);
  assert.deepEqual(storage.files[DISCOVERY_FILE], d.topics());
});

test("Home Assistant 'online' resends every config after 1-5 s (random), 'offline' does nothing", () => {
  for (var [r, delay] of [[0, RESEND_MIN_MS], [0.5, 3000], [0.99999, 4999]] as [number, number][]) {
    var { d, client, clock } = setup(sampleRaw(), new FakeStorage(), () => r);
    client.connected = true;
    d.start();
    clock.tick(GAP_MS * 20);
    client.clear();
    d.haStatus("offline");
    clock.tick(10000);
    assert.equal(client.published.length, 0);
    d.haStatus("online");
    clock.tick(delay - 1);
    assert.equal(client.published.length, 0, "nothing before " + delay + " ms");
    clock.tick(1);
    assert.equal(client.published.length, 1, "first config at " + delay + " ms");
    clock.tick(GAP_MS * 20);
    assert.deepEqual(client.topics(), d.topics());
  }
});

test("two 'online' in a row give one round, not two interleaved", () => {
  var { d, client, clock } = setup(sampleRaw(), new FakeStorage(), () => 0.25);
  d.start();
  clock.tick(GAP_MS * 20);
  client.clear();
  d.haStatus("online");
  clock.tick(500);
  d.haStatus("online");
  clock.tick(20000);
  assert.deepEqual(client.topics(), d.topics());
});
