/*
 * Fakes for the node's unit tests (test/node*.test.ts, test/discovery*.test.ts): an MQTT client that
 * records publishes, a Storage, a scripted sensor and a pump that records calls. Sample configs are
 * validated by the real validator so the tests see the same defaults as the device.
 */
import { validateConfig, type Config } from "../../firmware/config.ts";
import type { Sample, SampleCallback, Sensor, Clock } from "../../firmware/types.ts";
import type { NodeParts } from "../../firmware/node/node.ts";
import { P_ALL_OFF, P_ATTRIBUTES, P_COMMAND, P_LINK_DOWN, P_LINK_UP, P_SENSOR_OK } from "../../firmware/pump/pump.ts";

export interface Published {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  at: number;
}

export class FakeClient {
  connected = false;
  /** Clock time of the last packet heard (the node passes it to pump.linkDown). */
  _rx = 0;
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
  /** The Will topic the node gave parts.mqtt. */
  willTopic = "";
  constructor(private clock?: Clock) {}

  publish(topic: string, payload: string, qos: number, retain: boolean): boolean {
    if (typeof topic !== "string" || typeof payload !== "string") throw new Error("publish: topic and payload must be strings");
    // As the real client: QoS 0 while offline is dropped (false); QoS 1 would be queued, which the node
    // never asks for offline (a test sees it as a publish while disconnected).
    if (!qos && !this.connected) return false;
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
  /** The pump's one entry point (firmware/pump/pump.ts Pump.io), logged under the inputs' old names. */
  io(kind: number, a?: any, b?: any): any {
    if (kind === P_COMMAND) this.calls.push("command " + a + " " + b);
    else if (kind === P_LINK_UP) this.calls.push("linkUp");
    else if (kind === P_LINK_DOWN) this.calls.push("linkDown");
    else if (kind === P_SENSOR_OK) this.calls.push("sensorOk " + a);
    else if (kind === P_ATTRIBUTES) return '{"reason":"boot"}';
    else if (kind === P_ALL_OFF) this.calls.push("allOff " + a);
    else throw new Error("FakePump: unexpected input kind " + kind);
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

/**
 * NodeParts for `new NodeApp(config, parts)`: `client` is returned by parts.mqtt (its Will topic is kept in
 * client.willTopic), log lines go to `lines` (arguments joined by spaces, as console.log does).
 */
export function nodeParts(o: { clock: Clock; client: FakeClient; storage?: FakeStorage; model?: string; lines?: string[]; sensors?: (() => Sensor)[] }): NodeParts {
  return {
    clock: o.clock,
    storage: o.storage || new FakeStorage(),
    model: o.model || "NodeMCU v1 (ESP8266)",
    log: (...parts: string[]) => {
      if (o.lines) o.lines.push(parts.join(" "));
    },
    sensors: o.sensors || [],
    mqtt: (willTopic: string) => {
      o.client.willTopic = willTopic;
      return o.client;
    }
  };
}

export function config(raw: any): Config {
  var r = validateConfig(raw);
  if (!r.config) throw new Error("test config invalid: " + r.errors.join("; "));
  return r.config;
}

/* Home Assistant's discovery abbreviations (homeassistant/components/mqtt/abbreviations.py) for the keys
 * the node uses, so tests can check a config the way Home Assistant reads it. */
const HA_KEYS: Record<string, string> = {
  uniq_id: "unique_id", def_ent_id: "default_entity_id", stat_t: "state_topic", cmd_t: "command_topic",
  json_attr_t: "json_attributes_topic", avty_t: "availability_topic", pl_avail: "payload_available",
  pl_not_avail: "payload_not_available", pl_on: "payload_on", pl_off: "payload_off", dev_cla: "device_class",
  stat_cla: "state_class", unit_of_meas: "unit_of_measurement", sug_dsp_prc: "suggested_display_precision",
  exp_aft: "expire_after", ic: "icon", dev: "device", o: "origin"
};
const HA_DEVICE_KEYS: Record<string, string> = { ids: "identifiers", mdl: "model", sw: "sw_version", mf: "manufacturer" };
const HA_ORIGIN_KEYS: Record<string, string> = { sw: "sw_version", url: "support_url" };

/** Expand a discovery payload (UTF-8 text) as Home Assistant does: long keys, "~" substituted. */
export function haExpand(payload: string): any {
  var raw = JSON.parse(payload);
  var out: any = {};
  var base = raw["~"];
  for (var k of Object.keys(raw)) {
    if (k === "~") continue;
    var key = HA_KEYS[k] || k;
    var v = raw[k];
    if (key === "device" || key === "origin") {
      var map = key === "device" ? HA_DEVICE_KEYS : HA_ORIGIN_KEYS;
      var o: any = {};
      for (var dk of Object.keys(v)) o[map[dk] || dk] = v[dk];
      v = o;
    } else if (typeof v === "string" && key.endsWith("_topic") && base !== undefined) {
      if (v.startsWith("~")) v = base + v.substr(1);
      else if (v.endsWith("~")) v = v.substr(0, v.length - 1) + base;
    }
    out[key] = v;
  }
  return out;
}
