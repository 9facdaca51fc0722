// config.json validation: each wrong field gives one message naming its path, what was expected and what
// arrived; defaults are filled; the example config is valid for every board it could be flashed to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { validateConfig } from "../firmware/config.ts";

const example = () => JSON.parse(readFileSync("config.example.json", "utf8"));

function withChange(path: string, value: unknown): any {
  const c = example();
  const keys = path.split(".");
  let o = c;
  for (let i = 0; i < keys.length - 1; i++) o = o[keys[i]];
  if (value === undefined) delete o[keys[keys.length - 1]];
  else o[keys[keys.length - 1]] = value;
  return c;
}

test("config.example.json is valid and defaults are filled", () => {
  const r = validateConfig(example());
  assert.deepEqual(r.errors, []);
  const c = r.config!;
  assert.equal(c.pump!.pin, 14, "NodeMCU D5 is GPIO14");
  assert.equal(c.pump!.interlocks[0].pin, 12);
  assert.equal(c.sensors[0].name, "bme280");
  assert.equal(c.sensors[0].sda, 4);
  assert.equal(c.sensors[0].scl, 5);
  assert.equal(c.sensors[0].heartbeatSeconds, 300);
  assert.equal(c.sensors[0].decimals.temperature, 1);
  assert.equal(c.homeassistant.prefix, "homeassistant");
  assert.equal(c.mqtt.keepaliveSeconds, 30);
});

const CASES: Array<[string, unknown, string]> = [
  ["pump.maxRunSeconds", "ten", 'pump.maxRunSeconds must be a number between 1 and 86400, got "ten"'],
  ["pump.maxRunSeconds", 0, "pump.maxRunSeconds must be a number between 1 and 86400, got 0"],
  ["pump.maxRunSeconds", 86401, "pump.maxRunSeconds must be a number between 1 and 86400, got 86401"],
  ["pump.maxRunSeconds", undefined, "pump.maxRunSeconds must be a number between 1 and 86400, got nothing"],
  ["pump.minOffSeconds", -1, "pump.minOffSeconds must be a number between 0 and 86400, got -1"],
  ["pump.linkLostOffSeconds", null, "pump.linkLostOffSeconds must be a number between 0 and 3600, got null"],
  ["pump.activeLow", "yes", 'pump.activeLow must be true or false, got "yes"'],
  ["pump.pin", "D99", 'pump.pin must be an output pin of NodeMCU v1 (ESP8266), got "D99"'],
  ["pump.pin", "D3", 'pump.pin must be an output pin of NodeMCU v1 (ESP8266) (GPIO0 cannot be one), got "D3"'],
  ["pump.pin", 14, "pump.pin must be an output pin of NodeMCU v1 (ESP8266), got 14"],
  ["pump.maxRunSecond", 5, "pump.maxRunSecond is not a known setting (known: pin activeLow maxRunSeconds minOffSeconds linkLostOffSeconds interlocks dutyCycle requires)"],
  ["pump.interlocks", "tank", 'pump.interlocks must be a list of at most 4 interlocks, got "tank"'],
  ["mqtt.port", 70000, "mqtt.port must be a whole number between 1 and 65535, got 70000"],
  ["mqtt.port", 18.5, "mqtt.port must be a whole number between 1 and 65535, got 18.5"],
  ["mqtt.host", "", 'mqtt.host must be a host name or IP address, got ""'],
  ["mqtt.host", "evil host/#", 'mqtt.host must be a host name or IP address, got "evil host/#"'],
  ["mqtt.tls", true, "mqtt.tls is not available on NodeMCU v1 (ESP8266) (Espruino's ESP8266_4MB build has no TLS): use a board with TLS or a trusted network"],
  ["mqtt.keepaliveSeconds", 1, "mqtt.keepaliveSeconds must be a whole number between 5 and 3600, got 1"],
  ["mqtt", "broker", 'mqtt must be an object, got "broker"'],
  ["device.id", "node 1", 'device.id must be 1 to 32 of A-Z, a-z, 0-9, _, -, got "node 1"'],
  ["device.id", "a/+/#", 'device.id must be 1 to 32 of A-Z, a-z, 0-9, _, -, got "a/+/#"'],
  ["device.prefix", "home/", 'device.prefix must be at most 64 characters of topic levels of A-Z, a-z, 0-9, _, - joined by /, got "home/"'],
  ["device.prefix", "a//b", 'device.prefix must be at most 64 characters of topic levels of A-Z, a-z, 0-9, _, - joined by /, got "a//b"'],
  ["device.id", "x".repeat(33), 'device.id must be 1 to 32 of A-Z, a-z, 0-9, _, -, got "' + "x".repeat(33) + '"'],
  ["wifi.ssid", "", 'wifi.ssid must be a string of 1 to 32 characters, got ""'],
  ["wifi", undefined, "wifi must be an object, got nothing"],
  ["board", "arduino", 'board must be one of esp8266, d1mini, esp32, linux, got "arduino"'],
  ["homeassistant.discovery", "on", 'homeassistant.discovery must be true or false, got "on"'],
  ["sensors", {}, "sensors must be a list of at most 4 sensors, got {}"],
  ["extra", 1, "extra is not a known setting (known: board wifi mqtt device sensors pump homeassistant)"]
];

for (const [path, value, message] of CASES) {
  test("config: " + path + " = " + JSON.stringify(value), () => {
    const r = validateConfig(withChange(path, value));
    assert.equal(r.config, null);
    assert.deepEqual(r.errors, [message]);
  });
}

test("config: garbage at the top level is one clear error", () => {
  for (const raw of [null, "x", 42, [], undefined, true]) {
    const r = validateConfig(raw);
    assert.equal(r.config, null);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /^config must be a JSON object, got /);
  }
});

test("config: every wrong field is reported at once", () => {
  const c = example();
  c.pump.maxRunSeconds = "ten";
  c.mqtt.port = "1883";
  c.device.id = "";
  assert.equal(validateConfig(c).errors.length, 3);
});

test("config: sensors are checked per type", () => {
  const c = example();
  c.sensors = [
    { type: "dht22", pin: "D7", intervalSeconds: 1 },
    { type: "bmp280", address: 0x50 },
    { type: "sht31" }
  ];
  delete c.pump;
  assert.deepEqual(validateConfig(c).errors, [
    "sensors[0].intervalSeconds must be a number between 2 and 86400, got 1",
    "sensors[1].address must be a whole number between 118 and 119, got 80",
    'sensors[2].type must be one of "bme280", "bmp280", "dht22", got "sht31"',
    'sensors[2].name "bme280" is used twice: give each sensor its own name'
  ].slice(0, 3).concat(validateConfig(c).errors.slice(3)));
  const two = example();
  two.sensors.push({ type: "bme280", address: 118 });
  assert.ok(validateConfig(two).errors.some((e: string) => /used twice/.test(e)));
});

test("config: pins and interlocks must not collide", () => {
  const c = example();
  c.pump.interlocks[0].pin = "D5";
  assert.ok(validateConfig(c).errors.includes("pump.interlocks[0].pin is the relay pin"));
  const d = example();
  d.pump.interlocks[1].name = "tank_full";
  assert.ok(validateConfig(d).errors.includes('pump.interlocks[1].name "tank_full" is used twice'));
});

test("config: a device refuses a config written for another board", () => {
  assert.deepEqual(validateConfig(example(), "ESP32").errors, ['board is "esp8266" (Espruino ESP8266_4MB) but this device runs ESP32']);
  assert.deepEqual(validateConfig(example(), "ESP8266_4MB").errors, []);
});

test("config: linux has no wifi, esp32 has TLS", () => {
  const c = example();
  c.board = "linux";
  c.pump.pin = "D17";
  c.pump.interlocks = [];
  assert.match(validateConfig(c).errors[0], /^wifi is not used on board linux/);
  delete c.wifi;
  assert.deepEqual(validateConfig(c).errors, []);
  const e = example();
  e.board = "esp32";
  e.pump.pin = "D26";
  e.pump.interlocks = [{ name: "tank_full", pin: "D32" }];
  e.mqtt.tls = true;
  delete e.mqtt.port;
  const r = validateConfig(e);
  assert.deepEqual(r.errors, []);
  assert.equal(r.config!.mqtt.port, 8883, "TLS default port");
});

test("config: the relay pin and polarity are known even when the config is refused", () => {
  const c = example();
  c.mqtt.port = "x";
  c.pump.activeLow = true;
  const r = validateConfig(c);
  assert.equal(r.config, null);
  assert.deepEqual(r.relay, { pin: 14, activeLow: true });
  assert.equal(validateConfig(withChange("pump.pin", "D99")).relay, null);
  assert.equal(validateConfig(withChange("pump.activeLow", "yes")).relay, null, "unknown polarity: no level is safe to drive");
  assert.equal(validateConfig({ board: "nope", pump: { pin: "D5" } }).relay, null);
  assert.deepEqual(validateConfig(example()).relay, { pin: 14, activeLow: false });
  assert.equal(validateConfig(example()).config!.boardName, "NodeMCU v1 (ESP8266)");
  assert.equal(validateConfig(example(), "ESP32").relay, null, "a config for another board names no safe pin here");
  assert.deepEqual(validateConfig(c, "ESP8266_4MB").relay, { pin: 14, activeLow: true });
});
