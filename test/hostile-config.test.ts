/*
 * Invalid config.json on the device: the built bundle booted in the simulator with broken configs (not
 * JSON, wrong types, unknown keys, missing fields, TLS on the ESP8266). Each time the console names every
 * wrong field with what was expected, the relay stays off (held at its OFF level when the config names
 * the pin clearly, never driven otherwise), and the node opens no socket: a TCP server on the configured
 * port sees no connection, and Wifi is not even started. (The validator itself is tested field by field
 * on the host in config.test.ts.)
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/hostile-config.test.ts
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { startDevice, DEFAULT_BUNDLE } from "../sim/api.ts";
import { sleep } from "./helpers/sim-fixtures.ts";


function good(port: number): any {
  return {
    board: "esp8266",
    wifi: { ssid: "home", password: "wifi-secret" },
    mqtt: { host: "127.0.0.1", port, username: "cfg1", password: "mqtt-secret", keepaliveSeconds: 5 },
    device: { id: "cfg1", name: "Config test" },
    sensors: [{ type: "bme280", address: 118 }],
    pump: { pin: "D5", maxRunSeconds: 60, interlocks: [{ name: "tank_full", pin: "D6" }] }
  };
}

interface Case {
  name: string;
  config: (port: number) => any;
  /** One console line per wrong field, each matching one of these. */
  expect: RegExp[];
  /** The relay pin's OFF level when the config names it clearly, or -1: not driven at all. */
  heldAt: number;
}

const CASES: Case[] = [
  { name: "not JSON", config: () => '{ "board": "esp8266", "pump": { "pin": "D5" ', expect: [/config\.json: missing or not valid JSON/], heldAt: -1 },
  { name: "a JSON array", config: () => "[1, 2, 3]", expect: [/^config\.json: config must be a JSON object, got \[1,2,3\]$/], heldAt: -1 },
  {
    name: "wrong types",
    config: (port) => {
      const c = good(port);
      c.mqtt.port = String(port);
      c.mqtt.keepaliveSeconds = 2;
      c.wifi.ssid = 5;
      c.pump.maxRunSeconds = "ten";
      c.sensors[0].intervalSeconds = -1;
      return c;
    },
    expect: [/^config\.json: mqtt\.port must be a whole number between 1 and 65535, got "\d+"$/, /^config\.json: mqtt\.keepaliveSeconds must be a whole number between 5 and 3600, got 2$/, /^config\.json: wifi\.ssid must be a string of 1 to 32 characters, got 5$/, /^config\.json: pump\.maxRunSeconds must be a number between 1 and 86400, got "ten"$/, /^config\.json: sensors\[0\]\.intervalSeconds must be a number between 1 and 86400, got -1$/],
    heldAt: 0
  },
  {
    name: "unknown keys (a typo must not drop a safety limit)",
    config: (port) => {
      const c = good(port);
      delete c.pump.maxRunSeconds;
      c.pump.maxRunSecs = 60;
      c.mqtt.keepalive = 5;
      return c;
    },
    expect: [/^config\.json: pump\.maxRunSecs is not a known setting/, /^config\.json: mqtt\.keepalive is not a known setting/, /^config\.json: pump\.maxRunSeconds must be a number between 1 and 86400, got nothing$/],
    heldAt: 0
  },
  {
    name: "missing fields",
    config: (port) => {
      const c = good(port);
      delete c.device;
      delete c.mqtt.host;
      c.pump.activeLow = true;
      return c;
    },
    expect: [/^config\.json: device must be an object, got nothing$/, /^config\.json: mqtt\.host must be /],
    heldAt: 1
  },
  {
    name: "TLS on the ESP8266 (its Espruino build has no TLS)",
    config: (port) => {
      const c = good(port);
      c.mqtt.tls = true;
      return c;
    },
    expect: [/^config\.json: mqtt\.tls is not available on NodeMCU v1 \(ESP8266\)/],
    heldAt: 0
  }
];

describe("invalid config.json on the device", { concurrency: true }, () => {
  for (const c of CASES) {
    test(c.name + ": every field named, relay off, no socket", { timeout: 20000 }, async () => {
      assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
      let connections = 0;
      const server = createServer((s) => {
        connections++;
        s.destroy();
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      const port = (server.address() as any).port;
      const raw = c.config(port);
      const d = await startDevice({ config: typeof raw === "string" ? raw : raw, board: "esp8266", id: "cfg-" + CASES.indexOf(c) });
      try {
        await d.waitForConsole(/problem\(s\)|not valid JSON/, 5000);
        await sleep(1500); // long enough for Wifi and a first MQTT attempt, had the node started them
        const lines = d.console.filter((l) => /^config\.json: /.test(l) && !/problem\(s\)|held at its OFF level/.test(l));
        for (const re of c.expect) assert.ok(lines.some((l) => re.test(l)), "a line matching " + re + " in:\n" + d.console.join("\n"));
        assert.equal(lines.length, c.expect.length, "one line per wrong field, nothing else:\n" + lines.join("\n"));
        if (c.expect.length > 1 || !/JSON/.test(c.name)) assert.ok(d.console.some((l) => /Pump held off, network not started/.test(l)), d.console.join("\n"));
        const relay = d.pinNumber("D5");
        if (c.heldAt < 0) assert.equal(d.rt.driven(relay), false, "the relay pin is not driven when the config cannot say which pin it is");
        else {
          assert.equal(d.rt.driven(relay), true, "the relay pin is driven...");
          assert.equal(d.pin(relay), c.heldAt, "...at its OFF level");
          assert.ok(d.console.some((l) => /pump pin GPIO14 held at its OFF level/.test(l)));
        }
        assert.equal(d.rt.openSockets(), 0, "no socket open");
        assert.equal(connections, 0, "nothing connected to the configured broker port");
        assert.equal(d.rt.wifiUp, false, "Wifi not started");
        assert.deepEqual(d.console.filter((l) => /Uncaught/.test(l)), []);
        assert.equal(d.console.some((l) => /wifi-secret|mqtt-secret/.test(l)), false, "no password in the messages");
      } finally {
        await d.stop();
        await new Promise((r) => server.close(r));
      }
    });
  }
});
