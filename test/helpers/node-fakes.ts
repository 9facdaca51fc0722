/*
 * Fakes for the node's unit tests (test/node*.test.ts, test/discovery*.test.ts): an MQTT client that
 * records publishes, a Storage, a scripted sensor and a pump that records calls. Sample configs are
 * validated by the real validator so the tests see the same defaults as the device.
 */
import { validateConfig, type Config } from "../../firmware/config.ts";
import type { Sample, SampleCallback, Sensor, Clock } from "../../firmware/types.ts";

export interface Published {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  at: number;
}

export class FakeClient {
  connected = false;
  published: Published[] = [];
  subscribed: { topic: string; qos: number }[] = [];
  /** What publish() returns; a function gets the attempt to decide. */
  accept: boolean | ((topic: string) => boolean) = true;
  started = 0;
  ended = 0;
  onConnect: (sessionPresent: boolean) => void = () => {};
  onClose: (reason: string) => void = () => {};
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void = () => {};
  onError: (message: string) => void = () => {};
  constructor(private clock?: Clock) {}

  publish(topic: string, payload: string, qos: number, retain: boolean): boolean {
    if (typeof topic !== "string" || typeof payload !== "string") throw new Error("publish: topic and payload must be strings");
    var ok = typeof this.accept === "function" ? this.accept(topic) : this.accept;
    if (ok) this.published.push({ topic, payload, qos, retain, at: this.clock ? this.clock.now() : 0 });
    return ok;
  }
  subscribe(topic: string, qos: number): void {
    this.subscribed.push({ topic, qos });
  }
  start(): void {
    this.started++;
  }
  end(): void {
    this.ended++;
    this.connected = false;
  }
  /** Simulate CONNACK. */
  up(): void {
    this.connected = true;
    this.onConnect(false);
  }
  /** Simulate a lost link. */
  down(reason = "closed"): void {
    this.connected = false;
    this.onClose(reason);
  }
  topics(): string[] {
    return this.published.map((p) => p.topic);
  }
  last(topic: string): Published | undefined {
    for (var i = this.published.length - 1; i >= 0; i--) if (this.published[i].topic === topic) return this.published[i];
    return undefined;
  }
  clear(): void {
    this.published = [];
  }
}

export class FakeStorage {
  files: Record<string, any> = {};
  writes = 0;
  readJSON(name: string, _noExceptions: boolean): any {
    return name in this.files ? JSON.parse(JSON.stringify(this.files[name])) : undefined;
  }
  writeJSON(name: string, data: any): boolean {
    this.writes++;
    this.files[name] = JSON.parse(JSON.stringify(data));
    return true;
  }
}

/** A sensor whose next results the test queues; each sample() answers after 10 ms on the clock. */
export class ScriptedSensor implements Sensor {
  results: (Sample | Error)[] = [];
  samples = 0;
  closed = 0;
  constructor(private clock: Clock, private fallback: Sample | Error) {}
  sample(cb: SampleCallback): void {
    this.samples++;
    var r = this.results.length ? this.results.shift()! : this.fallback;
    this.clock.setTimeout(() => (r instanceof Error ? cb(r) : cb(null, r)), 10);
  }
  close(): void {
    this.closed++;
  }
}

export class FakePump {
  on = false;
  calls: string[] = [];
  command(payload: string, retained: boolean): void {
    this.calls.push("command " + payload + " " + retained);
  }
  linkUp(): void {
    this.calls.push("linkUp");
  }
  linkDown(): void {
    this.calls.push("linkDown");
  }
  sensorOk(name: string): void {
    this.calls.push("sensorOk " + name);
  }
  attributes(): string {
    return '{"reason":"boot"}';
  }
  allOff(reason: string): void {
    this.calls.push("allOff " + reason);
  }
}

/** The README's sample node: a BME280, the pump with two interlocks, discovery on. */
export function sampleRaw(): any {
  return {
    board: "esp8266",
    wifi: { ssid: "home", password: "secret" },
    mqtt: { host: "127.0.0.1", port: 1883 },
    device: { id: "node1", name: "Garden tank", prefix: "home" },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 30, heartbeatSeconds: 300 }],
    pump: {
      pin: "D5",
      maxRunSeconds: 600,
      interlocks: [
        { name: "tank_full", pin: "D6", activeLevel: 1 },
        { name: "people_present", pin: "D7", activeLevel: 1 }
      ]
    },
    homeassistant: { discovery: true, prefix: "homeassistant" }
  };
}

export function config(raw: any): Config {
  var r = validateConfig(raw);
  if (!r.config) throw new Error("test config invalid: " + r.errors.join("; "));
  return r.config;
}
