/*
 * Faults with the built bundle in the simulator against a real Mosquitto, seen from MQTT.js as Home
 * Assistant would see it: Wifi dropping, a TCP connection cut without FIN, sensors failing and coming
 * back, a power cycle in the middle of a run. Each test has its own broker and device and they run
 * concurrently; every wait is on a condition with a generous bound. keepaliveSeconds is 5 (the minimum
 * the config accepts), so the broker must publish the Will within 7.5 s of the last packet it got.
 * (Broker restarts are in faults-restart.test.ts.)
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/faults.test.ts
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { Broker } from "./helpers/mosquitto.ts";
import { startDevice, DEFAULT_BUNDLE, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

const KEEPALIVE_S = 5;
/*
 * On top of 1.5 x keepalive before the Will: Mosquitto 2.0 checks keepalives in a periodic sweep, not per
 * client (measured with 2.0.11 and keepalive 5: Wills 7.3 to 12.8 s after a client's last packet), plus
 * scheduling on a loaded machine.
 */
const WILL_MARGIN_MS = 6000;

interface Msg {
  topic: string;
  text: string;
  retain: boolean;
  at: number;
}

/** One broker, Home Assistant's side subscribed to the node's topics, one device. */
class Rig {
  broker!: Broker;
  ha!: MqttClient;
  msgs: Msg[] = [];
  d!: SimDevice;
  base: string;
  cfg: any;
  /** [Date.now(), level] of every change of the relay pin. */
  relayEdges: Array<[number, number]> = [];

  constructor(public id: string, over?: (c: any) => void) {
    this.base = "home/" + id + "/";
    this.cfg = {
      board: "esp8266",
      wifi: { ssid: "home", password: "wifi-secret" },
      mqtt: { host: "127.0.0.1", port: 0, keepaliveSeconds: KEEPALIVE_S },
      device: { id, name: "Faults " + id },
      sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
      pump: { pin: "D5", maxRunSeconds: 120, minOffSeconds: 0, linkLostOffSeconds: 1, interlocks: [{ name: "tank_full", pin: "D6", activeLevel: 1 }] },
      homeassistant: { discovery: false }
    };
    if (over) over(this.cfg);
  }

  async open(): Promise<void> {
    assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
    this.broker = await Broker.start();
    this.cfg.mqtt.port = this.broker.port;
    this.ha = mqtt.connect(this.broker.url, { reconnectPeriod: 0, connectTimeout: 5000 });
    this.ha.on("message", (topic, payload, p) => this.msgs.push({ topic, text: payload.toString("latin1"), retain: p.retain, at: Date.now() }));
    await new Promise<void>((resolve, reject) => {
      this.ha.once("connect", () => resolve());
      this.ha.once("error", reject);
    });
    await this.ha.subscribeAsync(this.base + "#", { qos: 1 });
  }

  async boot(): Promise<void> {
    this.d = await startDevice({ config: this.cfg });
    this.watchRelay();
    await this.until("online with the pump reported", () => this.since(0, "status").some((m) => m.text === "online") && this.since(0, "pump").length > 0, 15000);
  }

  watchRelay(): void {
    const relayPin = this.d.pinNumber("D5");
    this.d.rt.pinListeners.push((pin, level) => {
      if (pin === relayPin) this.relayEdges.push([Date.now(), level]);
    });
  }

  since(t0: number, suffix: string): Msg[] {
    return this.msgs.filter((m) => m.at >= t0 && m.topic === this.base + suffix);
  }

  until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
    return until(what, cond, timeoutMs, this.d);
  }

  /** Command the pump ON from Home Assistant and wait until the relay and the state topic say so. */
  async pumpOn(): Promise<void> {
    const t0 = Date.now();
    await this.ha.publishAsync(this.base + "pump/set", "ON", { qos: 1 });
    await this.until("pump ON", () => this.d.relay() === true && this.since(t0, "pump").some((m) => m.text === "ON"), 5000);
  }

  /** What the broker holds retained on a topic, as a fresh subscriber sees it. */
  async retained(suffix: string): Promise<string | undefined> {
    const c = await mqtt.connectAsync(this.broker.url, { reconnectPeriod: 0 });
    let got: string | undefined;
    c.on("message", (_t, p, pk) => {
      if (pk.retain) got = p.toString("latin1");
    });
    await c.subscribeAsync(this.base + suffix, { qos: 1 });
    const end = Date.now() + 1000;
    while (got === undefined && Date.now() < end) await sleep(20);
    await c.endAsync(true);
    return got;
  }

  noCrash(): void {
    assert.deepEqual(this.d.console.filter((l) => /Uncaught/.test(l)), [], "no Uncaught error on the device's console");
  }

  async close(): Promise<void> {
    try {
      if (this.d) await this.d.stop();
    } catch {}
    try {
      if (this.ha) await this.ha.endAsync(true);
    } catch {}
    if (this.broker) await this.broker.close();
  }
}

/** After the link came back: online, and the pump's OFF state and its reason republished, as retained. */
async function consistentAfterReturn(r: Rig, t0: number, reason: string): Promise<void> {
  await r.until("online again", () => r.since(t0, "status").some((m) => m.text === "online"), 30000);
  const back = r.since(t0, "status").find((m) => m.text === "online")!.at;
  await r.until("pump state republished", () => r.since(back, "pump").length > 0 && r.since(back, "pump/attributes").length > 0, 5000);
  assert.equal(r.since(back, "pump").at(-1)!.text, "OFF", "the republished state is OFF");
  assert.equal(JSON.parse(r.since(back, "pump/attributes").at(-1)!.text).reason, reason);
  assert.equal(r.d.relay(), false, "and the relay is off");
  assert.equal(await r.retained("pump"), "OFF", "the broker holds OFF for the pump");
  assert.equal(await r.retained("status"), "online", "and online for the node");
  // Still commandable on the restored subscription.
  await r.pumpOn();
}

describe("faults", { concurrency: true }, () => {
  test("Wifi drop: Will within 1.5 x keepalive, pump OFF by the link-lost rule, state republished on return", { timeout: 60000 }, async () => {
    const r = new Rig("fw1");
    try {
      await r.open();
      await r.boot();
      await r.pumpOn();
      const t0 = Date.now();
      r.d.wifiDrop(10); // the node's socket dies with Wifi; the broker sees no FIN
      await r.until("relay OFF (link lost)", () => r.d.relay() === false, 5000);
      const offAt = r.relayEdges.filter(([, l]) => l === 0).at(-1)![0];
      // The link-lost countdown runs from the last packet the node received (client._rx), which came at or
      // after the ON command (the relay's ON edge, give or take the node's handling), and before the drop.
      const onAt = r.relayEdges.filter(([, l]) => l === 1).at(-1)![0];
      assert.ok(offAt - onAt >= 950 && offAt - t0 <= 3000, "OFF linkLostOffSeconds (1 s) after the last packet: " + (offAt - onAt) + " ms after ON, " + (offAt - t0) + " ms after the drop");
      await r.until("offline (Will)", () => r.since(t0, "status").some((m) => m.text === "offline"), 1.5 * KEEPALIVE_S * 1000 + WILL_MARGIN_MS + 2000);
      const willMs = r.since(t0, "status").find((m) => m.text === "offline")!.at - t0;
      assert.ok(willMs <= 1.5 * KEEPALIVE_S * 1000 + WILL_MARGIN_MS, "Will after " + willMs + " ms");
      assert.ok(r.d.console.some((l) => /wifi: disconnected/.test(l)));
      await consistentAfterReturn(r, t0, "link-lost");
      r.noCrash();
    } finally {
      await r.close();
    }
  });

  test("TCP cut without FIN: both sides find out by keepalive; Will, pump OFF, state republished on return", { timeout: 60000 }, async () => {
    const r = new Rig("ft1", (c) => {
      c.pump.linkLostOffSeconds = 0; // the node reconnects about 1 s after finding the link dead
    });
    try {
      await r.open();
      await r.boot();
      await r.pumpOn();
      const t0 = Date.now();
      r.d.cutTcp();
      await r.until("offline (Will)", () => r.since(t0, "status").some((m) => m.text === "offline"), 1.5 * KEEPALIVE_S * 1000 + WILL_MARGIN_MS + 2000);
      const willMs = r.since(t0, "status").find((m) => m.text === "offline")!.at - t0;
      assert.ok(willMs <= 1.5 * KEEPALIVE_S * 1000 + WILL_MARGIN_MS, "Will after " + willMs + " ms");
      // The node sees nothing arrive for 1.5 x keepalive, drops the link, then waits linkLostOffSeconds.
      await r.until("relay OFF (link lost)", () => r.relayEdges.some(([t, l]) => t >= t0 && l === 0), 1.5 * KEEPALIVE_S * 1000 + 3000);
      const offAt = r.relayEdges.find(([t, l]) => t >= t0 && l === 0)![0];
      assert.ok(offAt - t0 <= 1.5 * KEEPALIVE_S * 1000 + 1000, "OFF " + (offAt - t0) + " ms after the cut: when the node found the link dead");
      assert.ok(r.d.console.some((l) => /keepalive timeout/.test(l)), "the node found the dead link by keepalive");
      await consistentAfterReturn(r, t0, "link-lost");
      r.noCrash();
    } finally {
      await r.close();
    }
  });

  test("sensors failing and coming back: one error per change of state, no false reading, readings resume", { timeout: 60000 }, async () => {
    const r = new Rig("fs1", (c) => {
      c.sensors = [
        { type: "bme280", name: "air", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 },
        { type: "dht22", name: "shed", pin: "D7", intervalSeconds: 5, heartbeatSeconds: 5 }
      ];
    });
    try {
      await r.open();
      await r.boot();
      const errors = (t0: number, source: string) => r.since(t0, "error").filter((m) => JSON.parse(m.text).source === source);
      await r.until("readings of both sensors", () => r.since(0, "air/temperature").length > 0 && r.since(0, "shed/temperature").length > 0, 10000);
      const [bme, dht] = r.d.hw.sensors;

      // BME280: I2C timeout, then unplugged (another failure: another message), then back.
      let t0 = Date.now();
      bme.fail = "timeout";
      await r.until("bme280 error", () => errors(t0, "air").length > 0, 5000);
      const failingFrom = errors(t0, "air")[0].at;
      await sleep(3200); // three more failed intervals
      assert.equal(errors(t0, "air").length, 1, "once per change of state, not per failed read: " + errors(t0, "air").map((m) => m.text).join(" | "));
      const t1 = Date.now();
      bme.fail = "unplugged";
      await sleep(3200);
      const unplugged = errors(t1, "air");
      assert.ok(unplugged.length <= 1, "unplugged reported at most once: " + unplugged.map((m) => m.text).join(" | "));
      if (unplugged.length) assert.notEqual(JSON.parse(unplugged[0].text).message, JSON.parse(errors(t0, "air")[0].text).message, "a second report only for a different failure");
      const t2 = Date.now();
      for (const q of ["temperature", "humidity", "pressure"]) {
        assert.equal(r.msgs.filter((m) => m.topic === r.base + "air/" + q && m.at > failingFrom + 50 && m.at < t2).length, 0, "no " + q + " published while the chip fails");
      }
      assert.equal(errors(t0, "air").every((m) => !m.retain), true, "errors are not retained");
      bme.fail = null;
      await r.until("bme280 readings again", () => r.since(t2, "air/temperature").length > 0, 5000);
      await r.d.waitForConsole(/sensor air: ok again/, 2000);

      // DHT22: bad checksum, then back.
      const t3 = Date.now();
      dht.fail = "checksum";
      await r.until("dht22 error", () => errors(t3, "shed").length > 0, 12000);
      const dhtFrom = errors(t3, "shed")[0].at;
      assert.match(JSON.parse(errors(t3, "shed")[0].text).message, /checksum/i);
      await sleep(10500); // two more failed reads
      assert.equal(errors(t3, "shed").length, 1, "DHT22 error once per change of state: " + errors(t3, "shed").map((m) => m.text).join(" | "));
      const t4 = Date.now();
      assert.equal(r.msgs.filter((m) => m.topic.indexOf(r.base + "shed/") === 0 && m.at > dhtFrom + 50 && m.at < t4).length, 0, "no DHT22 reading while its checksum fails");
      dht.fail = null;
      await r.until("dht22 readings again", () => r.since(t4, "shed/temperature").length > 0, 12000);
      assert.ok(r.since(t3, "air/temperature").length > 0, "the other sensor kept publishing meanwhile");
      r.noCrash();
    } finally {
      await r.close();
    }
  });

  test("DHT22 at its minimum interval (2 s) failing: one error, not alternating with the driver's rate-limit message", { timeout: 60000 }, async () => {
    // Known firmware bug (report of issue 7): with intervalSeconds 2..4 a failed read plus its retry 2 s
    // later makes the next sample() fall within 2 s of the retry's start pulse, and the driver answers
    // "the last read failed less than 2 s ago" instead of reading: a different message, so the node
    // publishes a new error every other interval, alternating between the two texts.
    const r = new Rig("fs2", (c) => {
      c.sensors = [{ type: "dht22", name: "shed", pin: "D7", intervalSeconds: 2, heartbeatSeconds: 2 }];
    });
    try {
      await r.open();
      await r.boot();
      await r.until("a DHT22 reading", () => r.since(0, "temperature").length > 0, 10000);
      const t0 = Date.now();
      r.d.hw.sensors[0].fail = "checksum";
      await r.until("dht22 error", () => r.since(t0, "error").length > 0, 8000);
      await sleep(9000);
      const texts = r.since(t0, "error").map((m) => JSON.parse(m.text).message);
      assert.deepEqual(texts.filter((t) => !/checksum/.test(t)), [], "only the real failure is reported");
      assert.equal(texts.length, 1, "one error while the failure lasts: " + texts.join(" | "));
    } finally {
      await r.close();
    }
  });

  test("power cycle mid-run: the relay is OFF from the first instant, a retained ON is ignored, back online by itself", { timeout: 60000 }, async () => {
    const r = new Rig("fp1");
    try {
      await r.open();
      await r.boot();
      // A command published with retain (a Home Assistant misconfiguration): obeyed now, as it arrives live...
      await r.ha.publishAsync(r.base + "pump/set", "ON", { qos: 1, retain: true });
      await r.until("pump ON", () => r.d.relay() === true, 5000);
      const t0 = Date.now();
      const mark = r.relayEdges.length;
      await r.d.powerCycle();
      const edgesAfter = () => r.relayEdges.slice(mark).filter(([, l], i) => i > 0 || l === 1); // the first is the power cut's 0
      assert.equal(r.d.relay(), false, "the relay is off right after power-on");
      await r.until("offline (Will: the socket died with the power)", () => r.since(t0, "status").some((m) => m.text === "offline"), 5000);
      await r.until("online again", () => r.since(t0, "status").some((m) => m.text === "online"), 15000);
      const back = r.since(t0, "status").find((m) => m.text === "online")!.at;
      await r.until("pump state after boot", () => r.since(back, "pump/attributes").length > 0, 5000);
      assert.equal(JSON.parse(r.since(back, "pump/attributes").at(-1)!.text).reason, "boot");
      // ...but at the new boot it arrives as a retained message: ignored.
      await r.d.waitForConsole(/pump: refused: .*retain/i, 5000);
      await sleep(1000);
      assert.equal(edgesAfter().filter(([, l]) => l === 1).length, 0, "the relay never went ON after the power cycle: " + JSON.stringify(edgesAfter()));
      assert.equal(r.d.relay(), false);
      assert.equal(await r.retained("pump"), "OFF");
      await r.ha.publishAsync(r.base + "pump/set", "", { qos: 1, retain: true }); // clear the retained command
      await r.until("readings after the power cycle", () => r.since(back, "temperature").length > 0, 5000);
      await r.pumpOn();
      r.noCrash();
    } finally {
      await r.close();
    }
  });
});
