/*
 * Soak benchmark (`npm run soak`, not a test): one simulated node (the built bundle) against a real
 * Mosquitto for a long run, publishing readings and switching its pump on Home Assistant's commands,
 * with faults injected at random: broker restarts, Wifi drops, TCP cuts without FIN, sensor faults,
 * bursts of bad commands, interlock toggles. It counts and prints:
 *   - readings expected (one per quantity per interval while the node was online) vs seen, and lost;
 *   - reconnects (node "mqtt: connected" lines) and faults injected per kind;
 *   - pump commands sent / obeyed (relay followed) / refused (error topic);
 *   - safety violations, which must be 0: relay ON while the interlock is active, a run past maxRunSeconds,
 *     relay ON without a valid command before it;
 *   - memory: d.memory() (the simulator's JsVar estimate) and process RSS at start and end.
 *
 *   npm run soak                      # 60 minutes
 *   npm run soak -- --minutes 5       # shorter; --seed N to replay the same fault schedule
 * Needs `npm run build` first. Prints a table at the end; exit code 1 when a safety violation was seen.
 */
import { existsSync } from "node:fs";
import mqtt from "mqtt";
import fc from "fast-check";
import { Broker } from "../test/helpers/mosquitto.ts";
import { startDevice, DEFAULT_BUNDLE } from "../sim/api.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : dflt;
}

const MINUTES = arg("minutes", 60);
const SEED = arg("seed", Date.now() >>> 0);
const INTERVAL_S = 5;
const MAX_RUN_S = 20;
const ID = "soak1";
const BASE = "home/" + ID + "/";
const QUANTITIES = ["temperature", "humidity", "pressure"];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A small seeded generator (mulberry32) for the fault schedule. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  if (!existsSync(DEFAULT_BUNDLE)) throw new Error("build the bundle first: npm run build");
  const rand = rng(SEED);
  const broker = await Broker.start();
  const ha = mqtt.connect(broker.url, { reconnectPeriod: 300, connectTimeout: 5000 });
  const seen: Record<string, number> = {};
  let online = false;
  let onlineSince = 0;
  let onlineMs = 0;
  let refusals = 0;
  let pumpOnMsgs = 0;
  ha.on("connect", () => ha.subscribe(BASE + "#", { qos: 1 }));
  ha.on("message", (topic, payload) => {
    const t = topic.slice(BASE.length);
    const text = payload.toString("latin1");
    if (QUANTITIES.indexOf(t) >= 0) seen[t] = (seen[t] || 0) + 1;
    if (t === "status") {
      const now = Date.now();
      if (text === "online" && !online) {
        online = true;
        onlineSince = now;
      } else if (text !== "online" && online) {
        online = false;
        onlineMs += now - onlineSince;
      }
    }
    if (t === "error" && /"source":"pump"/.test(text)) refusals++;
    if (t === "pump" && text === "ON") pumpOnMsgs++;
  });
  while (!ha.connected) await sleep(50);

  const d = await startDevice({
    config: {
      board: "esp8266",
      wifi: { ssid: "home", password: "wifi-secret" },
      mqtt: { host: "127.0.0.1", port: broker.port, keepaliveSeconds: 5 },
      device: { id: ID, name: "Soak" },
      sensors: [{ type: "bme280", address: 118, intervalSeconds: INTERVAL_S, heartbeatSeconds: INTERVAL_S }],
      pump: { pin: "D5", maxRunSeconds: MAX_RUN_S, minOffSeconds: 2, linkLostOffSeconds: 1, interlocks: [{ name: "people_present", pin: "D7", activeLevel: 1 }] },
      homeassistant: { discovery: true }
    }
  });
  const relayPin = d.pinNumber("D5");
  let lock = false;
  let lastValidOnAt = -1;
  let onAt = -1;
  const violations: string[] = [];
  let runs = 0;
  d.rt.pinListeners.push((pin, level) => {
    if (pin !== relayPin) return;
    const now = performance.now();
    if (level === 1) {
      onAt = now;
      runs++;
      if (lock) violations.push("relay ON while the interlock was active at " + new Date().toISOString());
      if (lastValidOnAt < 0) violations.push("relay ON without a valid command before it at " + new Date().toISOString());
      lastValidOnAt = -1;
    } else if (onAt >= 0) {
      if (now - onAt > MAX_RUN_S * 1000 + 500) violations.push("a run lasted " + Math.round(now - onAt) + " ms (limit " + MAX_RUN_S + " s)");
      onAt = -1;
    }
  });

  const startedAt = Date.now();
  const endAt = startedAt + MINUTES * 60000;
  const rss0 = process.memoryUsage().rss;
  // Memory at start: once the node is up and has published a first round.
  while (!online && Date.now() < startedAt + 15000) await sleep(50);
  await sleep(INTERVAL_S * 1000 + 500);
  const mem0 = d.memory().usage;
  const faults: Record<string, number> = { "broker restart": 0, "wifi drop": 0, "tcp cut": 0, "sensor fault": 0, "bad-command burst": 0, "interlock toggle": 0 };
  let commands = 0;
  let obeyed = 0;
  let sensorFaultUntil = 0;
  let sensorFaultMs = 0;

  while (Date.now() < endAt) {
    // A pump command every 3-10 s; after it, a fault with probability ~1/2 (one every ~14 s on average).
    await sleep(3000 + rand() * 7000);
    if (Date.now() >= endAt) break;
    const now = Date.now();
    if (sensorFaultUntil && now >= sensorFaultUntil) {
      d.hw.sensors[0].fail = null;
      sensorFaultUntil = 0;
    }
    const wantOn = rand() < 0.6;
    const before = d.relay();
    commands++;
    const payload = wantOn ? (rand() < 0.5 ? "ON" : '{"state":"ON","seconds":' + (1 + Math.floor(rand() * 30)) + "}") : "OFF";
    if (wantOn) lastValidOnAt = performance.now();
    ha.publish(BASE + "pump/set", payload, { qos: 1 });
    await sleep(400);
    if (d.relay() === wantOn || (!wantOn && before === false)) obeyed++;
    const r = rand();
    if (r < 0.12) {
      faults["broker restart"]++;
      await broker.stop();
      await sleep(rand() * 2000);
      await broker.restart();
    } else if (r < 0.2) {
      faults["wifi drop"]++;
      d.wifiDrop(2 + rand() * 15);
    } else if (r < 0.28) {
      faults["tcp cut"]++;
      d.cutTcp();
    } else if (r < 0.36 && !sensorFaultUntil) {
      faults["sensor fault"]++;
      d.hw.sensors[0].fail = rand() < 0.5 ? "timeout" : "unplugged";
      const ms = 5000 + rand() * 30000;
      sensorFaultUntil = Date.now() + ms;
      sensorFaultMs += ms;
    } else if (r < 0.44) {
      faults["bad-command burst"]++;
      const bad = fc.sample(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), { numRuns: 200, seed: Math.floor(rand() * 1e9) });
      for (const p of bad) ha.publish(BASE + "pump/set", typeof p === "string" && /^\s*on\s*$/i.test(p) ? "x" + p : (p as any), { qos: 0 });
    } else if (r < 0.52) {
      faults["interlock toggle"]++;
      lock = !lock;
      d.setInterlock("people_present", lock);
    }
  }
  if (lock) d.setInterlock("people_present", false);
  if (sensorFaultUntil) d.hw.sensors[0].fail = null;
  const elapsedMs = Date.now() - startedAt;
  if (online) onlineMs += Date.now() - onlineSince;
  await sleep(2000);
  const mem1 = d.memory().usage;
  const rss1 = process.memoryUsage().rss;
  const reconnects = d.console.filter((l) => /mqtt: connected/.test(l)).length - 1;
  const uncaught = d.console.filter((l) => /Uncaught/.test(l)).length;
  // Readings: one per quantity per interval while online and the sensor was healthy (heartbeat = interval).
  const expected = Math.floor((onlineMs - sensorFaultMs) / (INTERVAL_S * 1000));
  const rows: Array<[string, string]> = [
    ["wall time", (elapsedMs / 60000).toFixed(1) + " min (seed " + SEED + ")"],
    ["node online", ((100 * onlineMs) / elapsedMs).toFixed(1) + " % of the time"],
    ["reconnects", String(reconnects)]
  ];
  for (const k of Object.keys(faults)) rows.push(["faults: " + k, String(faults[k])]);
  for (const q of QUANTITIES) {
    const s = seen[q] || 0;
    rows.push(["readings " + q, s + " seen / ~" + expected + " expected (lost ~" + Math.max(0, expected - s) + ")"]);
  }
  rows.push(["pump commands", commands + " sent, " + obeyed + " followed by the relay, " + refusals + " refusals on the error topic, " + runs + " runs, " + pumpOnMsgs + " ON states"]);
  rows.push(["safety violations", String(violations.length)]);
  rows.push(["Uncaught errors", String(uncaught)]);
  rows.push(["memory (sim JsVars)", mem0 + " -> " + mem1]);
  rows.push(["process RSS", (rss0 / 1048576).toFixed(0) + " MB -> " + (rss1 / 1048576).toFixed(0) + " MB"]);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log("\nSoak: one node, " + MINUTES + " min, faults at random\n");
  for (const [k, v] of rows) console.log("| " + k.padEnd(w) + " | " + v);
  for (const v of violations.slice(0, 10)) console.log("VIOLATION: " + v);
  await d.stop();
  await ha.endAsync(true);
  await broker.close();
  process.exit(violations.length || uncaught ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
