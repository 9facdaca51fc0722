/*
 * Fixtures for tests that run the built bundle in the simulator against a real Mosquitto, with MQTT.js as
 * the home-automation side: a Scene is one broker, one recording MQTT.js client subscribed to the node's
 * topics and (after boot()) one simulated device; close() stops all three. Waits are on conditions with
 * generous bounds (the machine may be loaded), never fixed sleeps where a condition exists.
 *
 *   const s = await Scene.open("p1", (cfg) => { cfg.pump.maxRunSeconds = 2; });
 *   try { await s.boot(); s.send("ON"); await s.until("relay on", () => s.d.relay() === true); }
 *   finally { await s.close(); }
 */
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { Broker, type BrokerOptions } from "./mosquitto.ts";
import { startDevice, type SimDevice } from "../../sim/api.ts";

export interface Msg {
  topic: string;
  /** The payload as text (latin1: one char per byte, like the device sees it). */
  text: string;
  retain: boolean;
  /** Date.now() when it arrived. */
  at: number;
}

/** The pump's attributes JSON (firmware/pump/pump.ts attributes()). */
export interface PumpAttributes {
  reason: string;
  run_seconds: number;
  left_seconds: number;
  changes: number;
  refused: number;
  last_refused: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `cond` every 20 ms; throw naming `what` (and the device's last console lines) after timeoutMs. */
export async function until(what: string, cond: () => boolean, timeoutMs: number, d?: SimDevice | null): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out after " + timeoutMs + " ms waiting for " + what + (d ? "; device console:\n" + d.console.slice(-15).join("\n") : ""));
    await sleep(20);
  }
}

/** An MQTT.js client on `url` that records every message on `filters` (QoS 1). */
export async function recorder(url: string, filters: string[]): Promise<{ c: MqttClient; msgs: Msg[] }> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000 });
  const msgs: Msg[] = [];
  c.on("message", (topic, payload, packet) => msgs.push({ topic, text: payload.toString("latin1"), retain: packet.retain, at: Date.now() }));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  await c.subscribeAsync(filters, { qos: 1 });
  return { c, msgs };
}

/**
 * A node config (esp8266, BME280, pump on D5 with the tank_full (D6) and people_present (D7) interlocks)
 * pointing at `port`; `over` edits it before use. Small limits so that every behaviour fits in seconds.
 */
export function pumpNodeConfig(id: string, port: number, over?: (c: any) => void): any {
  const c: any = {
    board: "esp8266",
    wifi: { ssid: "home", password: "secret" },
    mqtt: { host: "127.0.0.1", port, keepaliveSeconds: 5 },
    device: { id, name: "Pump " + id },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 5, heartbeatSeconds: 60 }],
    pump: {
      pin: "D5",
      maxRunSeconds: 30,
      minOffSeconds: 0,
      linkLostOffSeconds: 1,
      interlocks: [
        { name: "tank_full", pin: "D6", activeLevel: 1 },
        { name: "people_present", pin: "D7", activeLevel: 1 }
      ]
    },
    homeassistant: { discovery: false }
  };
  if (over) over(c);
  return c;
}

export class Scene {
  readonly id: string;
  readonly broker: Broker;
  /** The home-automation side, subscribed to <prefix>/<id>/# before the device boots. */
  readonly ha: MqttClient;
  /** Everything the home-automation side received, in order. */
  readonly msgs: Msg[];
  readonly config: any;
  /** <prefix>/<id>/ */
  readonly base: string;
  /** Set by boot(). */
  d: SimDevice | null = null;
  /** Date.now() just before the device was powered on. */
  bootAt = 0;
  /** Every change of d.relay() since boot(), with Date.now() when the pin changed (pin listener). */
  relayLog: { on: boolean; at: number }[] = [];

  private constructor(id: string, broker: Broker, ha: MqttClient, msgs: Msg[], config: any) {
    this.id = id;
    this.broker = broker;
    this.ha = ha;
    this.msgs = msgs;
    this.config = config;
    this.base = (config.device.prefix || "home") + "/" + id + "/";
  }

  /** Broker and home-automation side; the device is not started yet (see boot()). */
  static async open(id: string, over?: (c: any) => void, brokerOptions?: BrokerOptions): Promise<Scene> {
    const broker = await Broker.start(brokerOptions);
    try {
      const config = pumpNodeConfig(id, broker.port, over);
      const { c, msgs } = await recorder(broker.url, [(config.device.prefix || "home") + "/" + id + "/#"]);
      return new Scene(id, broker, c, msgs, config);
    } catch (e) {
      await broker.close();
      throw e;
    }
  }

  /** open() then boot(). */
  static async start(id: string, over?: (c: any) => void): Promise<Scene> {
    const s = await Scene.open(id, over);
    try {
      await s.boot();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** The device as started by boot(). */
  get dev(): SimDevice {
    if (!this.d) throw new Error("scene " + this.id + ": boot() first");
    return this.d;
  }

  /**
   * Power the device on and wait until the node is online with its pump reported (status online, pump
   * state and attributes published after this call). Its subscription to pump/set is then in place (the
   * client sends SUBSCRIBE before anything is published from the CONNACK handler).
   */
  async boot(): Promise<void> {
    const mark = this.msgs.length;
    this.bootAt = Date.now();
    // SIM_BUNDLE: run another build of the firmware (e.g. a deliberately broken one, to see tests go red).
    const d = await startDevice({ config: this.config, bundle: process.env.SIM_BUNDLE || undefined });
    this.d = d;
    // The bundle's first run has written the relay's OFF level; from here on every change is recorded
    // (power cycles included: the runtime and its listeners stay).
    let was = d.relay() === true;
    this.relayLog = [{ on: was, at: Date.now() }];
    d.rt.pinListeners.push(() => {
      const now = d.relay() === true;
      if (now === was) return;
      was = now;
      this.relayLog.push({ on: now, at: Date.now() });
    });
    await this.until("the node online with its pump reported", () =>
      this.since(mark, "status").some((m) => m.text === "online") && this.since(mark, "pump/attributes").length > 0, 15000);
  }

  /** Publish on <base><suffix> from the home-automation side (QoS 1, not retained unless asked). */
  async send(payload: string | Buffer, opts?: { retain?: boolean; suffix?: string }): Promise<void> {
    await this.ha.publishAsync(this.base + (opts && opts.suffix ? opts.suffix : "pump/set"), payload, { qos: 1, retain: !!(opts && opts.retain) });
  }

  /**
   * Publish ON on pump/set, wait for "ON" on <base>pump published after `mark`, check the relay holds it
   * (`why`: the assertion's message), and return that message.
   */
  async switchOn(mark: number, why?: string): Promise<Msg> {
    await this.send("ON");
    const on = await this.next(mark, "pump", "ON");
    assert.equal(this.dev.relay(), true, why);
    return on;
  }

  /** Date.now() of the last time the relay went on/off, or 0 if it never did since boot(). */
  lastRelay(on: boolean): number {
    for (let i = this.relayLog.length - 1; i > 0; i--) if (this.relayLog[i].on === on) return this.relayLog[i].at;
    return 0;
  }

  /** Index to pass to since(): messages from now on. */
  mark(): number {
    return this.msgs.length;
  }

  /** Messages on <base><suffix> received from index `mark` on. */
  since(mark: number, suffix: string): Msg[] {
    const t = this.base + suffix;
    return this.msgs.slice(mark).filter((m) => m.topic === t);
  }

  /** The last message on <base><suffix> (from index `mark` on), or undefined. */
  last(suffix: string, mark?: number): Msg | undefined {
    const l = this.since(mark || 0, suffix);
    return l[l.length - 1];
  }

  /** The last published pump attributes (from index `mark` on). */
  attrs(mark?: number): PumpAttributes | undefined {
    const m = this.last("pump/attributes", mark);
    return m ? JSON.parse(m.text) : undefined;
  }

  /** The pump's error messages ({"source":"pump"} on <base>error) received from index `mark` on. */
  pumpErrors(mark: number): string[] {
    const out: string[] = [];
    for (const m of this.since(mark, "error")) {
      const e = JSON.parse(m.text);
      if (e.source === "pump") out.push(e.message);
    }
    return out;
  }

  /** Wait for `cond`; the failure names `what` and shows the device's console. */
  until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
    return until(what, cond, timeoutMs, this.d);
  }

  /** Wait for a message on <base><suffix> (with payload `text` when given) after `mark`; return it. */
  async next(mark: number, suffix: string, text?: string, timeoutMs?: number): Promise<Msg> {
    const pick = () => this.since(mark, suffix).find((m) => text === undefined || m.text === text);
    await this.until(suffix + (text === undefined ? "" : " " + text) + " after message " + mark, () => pick() !== undefined, timeoutMs || 5000);
    return pick()!;
  }

  /** Wait for the next pump error after `mark` and return its message. */
  async nextPumpError(mark: number, timeoutMs?: number): Promise<string> {
    await this.until("a pump error after message " + mark, () => this.pumpErrors(mark).length > 0, timeoutMs || 5000);
    return this.pumpErrors(mark)[0];
  }

  /** Wait for attributes published after `mark` that satisfy `cond`, and return them. */
  async attrsWhen(what: string, mark: number, cond: (a: PumpAttributes) => boolean, timeoutMs?: number): Promise<PumpAttributes> {
    let hit: PumpAttributes | undefined;
    await this.until("attributes: " + what, () => {
      for (const m of this.since(mark, "pump/attributes")) {
        const a = JSON.parse(m.text);
        if (cond(a)) {
          hit = a;
          return true;
        }
      }
      return false;
    }, timeoutMs || 5000);
    return hit!;
  }

  /**
   * What the broker holds retained on <base><suffix>, as a fresh subscriber sees it: the first retained
   * message, or undefined when none came within `absentMs` after SUBACK.
   */
  async retained(suffix: string, absentMs?: number): Promise<string | undefined> {
    const { c, msgs } = await recorder(this.broker.url, [this.base + suffix]);
    try {
      const end = Date.now() + (absentMs || 1000);
      while (!msgs.some((m) => m.retain) && Date.now() < end) await sleep(20);
      const m = msgs.find((x) => x.retain);
      return m ? m.text : undefined;
    } finally {
      await c.endAsync();
    }
  }

  /** Device powered off (a power cut), home-automation side disconnected, broker stopped. Never throws. */
  async close(): Promise<void> {
    try {
      if (this.d) await this.d.stop();
    } catch {}
    try {
      await this.ha.endAsync(true);
    } catch {}
    await this.broker.close();
  }
}
