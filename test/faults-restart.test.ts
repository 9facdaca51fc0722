/*
 * Fault: the broker restarted 20 times at random moments, with the built bundle in the simulator against a
 * real Mosquitto and MQTT.js as Home Assistant. After every restart the node must be back `online` by
 * itself, readings must flow again, pump/set must still be obeyed (the subscription was restored in the
 * broker's new, empty session) and nothing may leak: the runtime's timers, watches and sockets, and the
 * node's memory estimate (d.memory()), are the same at the end as at the start, give or take a little.
 *
 * Time: the client doubles its reconnect delay (1 s, 2 s, 4 s, ... 60 s) after every lost connection and
 * only goes back to 1 s after a connection that lasted STABLE_MS (30 s) (firmware/mqtt/client.ts). So
 * the test keeps the link up for 31 s whenever the next delay would pass MAX_EXPECTED_DELAY_MS, and every
 * wait for `online` is bounded by the delay the client is due to use plus a margin. That makes this file
 * take about 3.5 minutes; the test runner runs it next to the other files.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/faults-restart.test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import fc from "fast-check";
import { Broker } from "./helpers/mosquitto.ts";
import { startDevice, DEFAULT_BUNDLE, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

const RESTARTS = 20;
const STABLE_MS = 30000;
const MAX_EXPECTED_DELAY_MS = 8000;
/** Above the reconnect delay: Mosquitto's start, the CONNECT round trip, a loaded machine. */
const MARGIN_MS = 6000;

interface Msg {
  topic: string;
  text: string;
  at: number;
}



/** What the simulated device holds (sim/runtime.ts): timers, watches and sockets the bundle has open. */
function resources(d: SimDevice): { timers: number; watches: number; sockets: number } {
  const rt = d.rt;
  return { timers: rt.timerCount(), watches: rt.watchCount(), sockets: rt.openSockets() };
}

test("broker restarted 20 times at random moments: back online each time, readings and pump/set work, nothing leaks", { timeout: 400000 }, async () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  const broker = await Broker.start();
  const id = "restart1";
  const base = "home/" + id + "/";
  const cfg = {
    board: "esp8266",
    wifi: { ssid: "home", password: "wifi-secret" },
    mqtt: { host: "127.0.0.1", port: broker.port, keepaliveSeconds: 5 },
    device: { id, name: "Restart test" },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
    pump: { pin: "D5", maxRunSeconds: 60, minOffSeconds: 0, linkLostOffSeconds: 0, interlocks: [{ name: "tank_full", pin: "D6", activeLevel: 1 }] },
    homeassistant: { discovery: false }
  };
  // Random moments and gaps come from fast-check's generator so a failure prints a seed to replay.
  const seed = Date.now() >>> 0;
  const plan = fc.sample(fc.record({ waitMs: fc.integer({ min: 0, max: 1500 }), gapMs: fc.integer({ min: 0, max: 600 }), early: fc.boolean() }), { numRuns: RESTARTS, seed });
  const msgs: Msg[] = [];
  let ha: MqttClient | null = null;
  let d: SimDevice | null = null;
  const relayOnAt: number[] = [];
  try {
    ha = mqtt.connect(broker.url, { reconnectPeriod: 200, connectTimeout: 5000, clean: true });
    ha.on("message", (topic, payload) => msgs.push({ topic, text: payload.toString("latin1"), at: Date.now() }));
    ha.on("connect", () => ha!.subscribe(base + "#", { qos: 1 }));
    await until("Home Assistant side connected", () => ha!.connected, 5000);
    d = await startDevice({ config: cfg });
    const dev = d;
    dev.rt.pinListeners.push((pin, level) => {
      if (pin === dev.pinNumber("D5") && level === 1) relayOnAt.push(Date.now());
    });
    const since = (t0: number, suffix: string) => msgs.filter((m) => m.at >= t0 && m.topic === base + suffix);

    /** online, a fresh reading, and an ON/OFF command obeyed, all after t0. */
    async function healthy(what: string, t0: number, onlineWithinMs: number): Promise<number> {
      await until(what + ": online", () => ha!.connected && since(t0, "status").some((m) => m.text === "online"), onlineWithinMs, dev);
      const upAt = since(t0, "status").find((m) => m.text === "online")!.at;
      await until(what + ": a reading", () => since(upAt, "temperature").length > 0, 5000, dev);
      // The retained "online" may reach us before the node's SUBSCRIBE reached the broker: send the
      // command only once the node published its pump state (sent after SUBSCRIBE, see node.ts).
      await until(what + ": pump state", () => since(t0, "pump").length > 0, 5000, dev);
      const c0 = Date.now();
      ha!.publish(base + "pump/set", "ON", { qos: 1 });
      await until(what + ": pump ON obeyed", () => dev.relay() === true && since(c0, "pump").some((m) => m.text === "ON"), 5000, dev);
      ha!.publish(base + "pump/set", "OFF", { qos: 1 });
      await until(what + ": pump OFF obeyed", () => dev.relay() === false && since(c0, "pump").some((m) => m.text === "OFF"), 5000, dev);
      return upAt;
    }

    let upAt = await healthy("boot", 0, 15000);
    await sleep(1500);
    const startRes = resources(dev);
    const startMem = dev.memory().usage;
    let delay = 1000; // the reconnect delay the client will use after the next lost connection
    for (let i = 0; i < RESTARTS; i++) {
      const p = plan[i];
      if (delay > MAX_EXPECTED_DELAY_MS) {
        // Let the connection count as stable so the client's delay goes back to 1 s.
        await sleep(Math.max(0, upAt + STABLE_MS + 1000 - Date.now()));
        delay = 1000;
      }
      // A random moment: early = right after the node came back (while it republishes its state),
      // otherwise up to 1.5 s later, between readings or in the middle of one.
      if (!p.early) await sleep(p.waitMs);
      const t0 = Date.now();
      await broker.stop();
      await sleep(p.gapMs);
      await broker.restart();
      const what = "restart " + (i + 1) + "/" + RESTARTS + " (seed " + seed + ", gap " + p.gapMs + " ms)";
      upAt = await healthy(what, t0, delay + MARGIN_MS);
      delay = Math.min(delay * 2, 60000);
    }
    await sleep(1500);
    const endRes = resources(dev);
    const endMem = dev.memory().usage;
    assert.deepEqual(endRes, startRes, "timers, watches and sockets after " + RESTARTS + " restarts as before them");
    assert.ok(endMem <= startMem + 40, "memory estimate bounded: " + startMem + " JsVars at start, " + endMem + " at the end");
    assert.equal(dev.console.filter((l) => /Uncaught/.test(l)).length, 0, dev.console.filter((l) => /Uncaught/.test(l)).join("\n"));
    assert.equal(relayOnAt.length, RESTARTS + 1, "the relay went ON once per command, never by itself");
  } finally {
    if (d) await d.stop();
    if (ha) await ha.endAsync(true);
    await broker.close();
  }
});
