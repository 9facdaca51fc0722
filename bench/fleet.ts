/*
 * Fleet benchmark: how many simulated devices one Node process holds, memory per device, and the
 * command-to-relay latency, all through a real Mosquitto on 127.0.0.1.
 *
 *   tsx bench/fleet.ts [--sizes 1,100,1000] [--seconds 20] [--samples 50]
 *
 * For each fleet size: start the devices (dist/firmware.js, a BME280 publishing every 5 s, a pump),
 * wait until they are connected, run for --seconds and count what the broker delivers, and report heap
 * and RSS per device. Then, on the same broker: command-to-relay latency (MQTT.js publishes ON/OFF on
 * <prefix>/<id>/pump/set until the relay pin changes) next to a plain MQTT.js publish-to-receive round
 * trip, p50/p99. Figures are printed, never asserted. If the bundle does not speak MQTT yet, it says so
 * and reports only what it can.
 */
import mqtt from "mqtt";
import { performance } from "node:perf_hooks";
import { Broker } from "../test/helpers/mosquitto";
import { startDevice, type SimDevice } from "../sim/api";
import { T_PUMP_SET } from "../firmware/constants";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const SIZES = arg("sizes", "1,100,1000").split(",").map(Number);
const SECONDS = Number(arg("seconds", "20"));
const SAMPLES = Number(arg("samples", "50"));
const PREFIX = "bench";

function config(id: string, port: number): any {
  return {
    board: "esp8266",
    wifi: { ssid: "bench", password: "bench" },
    mqtt: { host: "127.0.0.1", port, keepaliveSeconds: 60 },
    device: { id, prefix: PREFIX },
    sensors: [{ type: "bme280", name: "room", address: 0x76, intervalSeconds: 5, heartbeatSeconds: 5 }],
    pump: { pin: "D5", maxRunSeconds: 600, minOffSeconds: 0 },
    homeassistant: { discovery: false }
  };
}

const mb = (b: number) => (b / 1048576).toFixed(1) + " MB";
const pct = (a: number[], p: number) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gc(): void {
  if ((globalThis as any).gc) (globalThis as any).gc();
}

async function connected(devs: SimDevice[], timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  let n = 0;
  while (Date.now() < until) {
    n = devs.filter((d) => d.console.some((l) => /mqtt: connected/.test(l))).length;
    if (n === devs.length) break;
    await wait(250);
  }
  return n;
}

async function fleet(broker: Broker, n: number, watcher: mqtt.MqttClient, counter: { n: number }): Promise<SimDevice[]> {
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const devs: SimDevice[] = [];
  for (let i = 0; i < n; i++) {
    devs.push(await startDevice({ config: config("fleet" + n + "-" + i, broker.port) }));
    if (i % 50 === 49) await wait(20);
  }
  const up = await connected(devs, 30000 + n * 30);
  const startMs = performance.now() - t0;
  counter.n = 0;
  await wait(SECONDS * 1000);
  const msgs = counter.n;
  gc();
  const after = process.memoryUsage();
  const jsVars = devs.reduce((s, d) => s + d.memory().usage, 0) / n;
  console.log(
    "devices " + String(n).padStart(5) + ": " + up + " connected in " + (startMs / 1000).toFixed(1) + " s; " +
      (msgs / SECONDS).toFixed(1) + " msg/s at the broker; heap +" + mb((after.heapUsed - before.heapUsed) / n) + "/device, rss +" + mb((after.rss - before.rss) / n) + "/device (rss total " + mb(after.rss) + "); JsVars used (estimate) " + jsVars.toFixed(0) + "/device"
  );
  if (up === 0) console.log("  the bundle never printed 'mqtt: connected': it does not do MQTT yet (or failed); see a device console:\n  " + devs[0].console.slice(-5).join("\n  "));
  return devs;
}

async function latency(broker: Broker, dev: SimDevice, client: mqtt.MqttClient): Promise<void> {
  // Plain MQTT.js round trip on the same broker.
  const rtt: number[] = [];
  await client.subscribeAsync("bench/echo", { qos: 0 });
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    const got = new Promise<void>((r) => {
      const h = (topic: string) => {
        if (topic === "bench/echo") {
          client.removeListener("message", h);
          r();
        }
      };
      client.on("message", h);
    });
    client.publish("bench/echo", String(i));
    await got;
    rtt.push(performance.now() - t);
  }
  console.log("MQTT.js publish->receive round trip: p50 " + pct(rtt, 50).toFixed(2) + " ms, p99 " + pct(rtt, 99).toFixed(2) + " ms (" + SAMPLES + " samples)");

  const topic = PREFIX + "/" + dev.id + "/" + T_PUMP_SET;
  const lat: number[] = [];
  let misses = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const want = !(dev.relay() === true);
    const t = performance.now();
    const changed = new Promise<boolean>((resolve) => {
      const l = () => {
        if (dev.relay() === want) {
          dev.rt.pinListeners.splice(dev.rt.pinListeners.indexOf(l), 1);
          clearTimeout(to);
          resolve(true);
        }
      };
      const to = setTimeout(() => {
        dev.rt.pinListeners.splice(dev.rt.pinListeners.indexOf(l), 1);
        resolve(false);
      }, 2000);
      dev.rt.pinListeners.push(l);
    });
    client.publish(topic, want ? "ON" : "OFF");
    if (await changed) lat.push(performance.now() - t);
    else misses++;
    await wait(20);
  }
  if (lat.length) console.log("command->relay latency (" + topic + "): p50 " + pct(lat, 50).toFixed(2) + " ms, p99 " + pct(lat, 99).toFixed(2) + " ms (" + lat.length + " samples" + (misses ? ", " + misses + " commands never moved the relay" : "") + ")");
  else console.log("command->relay latency: the relay never moved on " + topic + " (the bundle has no pump over MQTT yet?); console tail:\n  " + dev.console.slice(-5).join("\n  "));
}

async function main(): Promise<void> {
  const broker = await Broker.start({ extraConfig: "max_queued_messages 10000\n" });
  console.log("fleet bench: Mosquitto on 127.0.0.1:" + broker.port + ", node " + process.version + (((globalThis as any).gc) ? "" : " (run with --expose-gc for steadier memory figures)"));
  const watcher = await mqtt.connectAsync(broker.url, { clientId: "bench-watch" });
  const counter = { n: 0 };
  await watcher.subscribeAsync(PREFIX + "/#");
  watcher.on("message", () => counter.n++);
  let last: SimDevice[] = [];
  try {
    for (const n of SIZES) {
      for (const d of last) await d.stop();
      await wait(500);
      last = await fleet(broker, n, watcher, counter);
    }
    if (last.length) await latency(broker, last[0], watcher);
  } finally {
    for (const d of last) await d.stop();
    await watcher.endAsync();
    await broker.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  }
);
