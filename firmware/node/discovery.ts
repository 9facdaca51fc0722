/*
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery).
 *
 * Config messages, retained, QoS 1, under <ha prefix>/<component>/<object id>/config:
 *   sensor/<id>_<quantity>          (several sensors: sensor/<id>_<sensor>_<quantity>)
 *   switch/<id>_pump                the relay: command_topic pump/set, state_topic pump, attributes
 *   binary_sensor/<id>_<interlock>  each interlock input
 * Each carries unique_id, default_entity_id (HA 2025.10 replaced object_id by it), availability on the
 * node's status topic, the device block and the origin block; sensors add device_class, state_class,
 * unit, suggested_display_precision and expire_after (3 x the longest of interval and heartbeat; none
 * without a heartbeat, as a value that does not move is then not republished). Keys use Home
 * Assistant's abbreviations (uniq_id, stat_t, dev, o, ...) and "~" for the node's base topic.
 *
 * Memory: the configs are sent one at a time. Entry i is described by a few numbers and its payload is
 * built only when it is its turn, after the previous publish was accepted and a short gap, so the
 * ESP8266 holds at most one payload (~0.6 KB) at a time.
 *
 * Removal: the config topics announced last time are kept in Storage (DISCOVERY_FILE, a JSON list). At
 * boot the list is compared with this config; topics no longer configured (a sensor taken out, discovery
 * turned off, another prefix) get an empty retained payload, which deletes the entity in Home Assistant
 * and clears the broker's retained copy. The file is rewritten, only when it changed, once a whole round
 * has been accepted.
 *
 * Resend: every connect starts a round (the broker may have lost its retained messages); "online" on
 * <ha prefix>/status (Home Assistant restarted) starts one after a random 1-5 s, so that a house full of
 * nodes does not answer at the same instant.
 */
import type { Clock } from "../types";
import type { Config } from "../config";
import { Publisher, QT, QH, hasQuantity, quantityName } from "./publisher";
import { ONLINE, OFFLINE, ON, OFF, VERSION, PROJECT, SUPPORT_URL, T_STATUS, T_PUMP, T_PUMP_SET, T_PUMP_ATTRIBUTES, T_INTERLOCK } from "../constants";

/** Storage file with the list of config topics announced last time. */
export const DISCOVERY_FILE = "ha.json";
/** Pause between two accepted config messages. */
export const GAP_MS = 250;
/** Retry delay when the client refused a publish (in-flight list full). */
export const RETRY_MS = 1000;
/** Resend after Home Assistant's "online": this much plus up to RESEND_SPREAD_MS at random. */
export const RESEND_MIN_MS = 1000;
export const RESEND_SPREAD_MS = 4000;

/** The Storage calls discovery needs (require("Storage") on the device, a fake in tests). */
export interface StoragePort {
  readJSON(name: string, noExceptions: boolean): any;
  writeJSON(name: string, data: any): any;
}

/* Entry kinds. */
const K_SENSOR = 0;
const K_SWITCH = 1;
const K_BINARY = 2;

/** An entity id for default_entity_id: lowercase a-z, 0-9, _ (the device id may hold "-" and capitals). */
function slug(s: string): string {
  return s.toLowerCase().replace(/-/g, "_");
}

export class Discovery {
  /** Config topics still to be emptied this round (boot comparison); [] once done. */
  removals: string[];
  private _cfg: Config;
  private _pub: Publisher;
  private _clock: Clock;
  private _storage: StoragePort;
  private _random: () => number;
  private _model: string;
  private _count: number;
  private _dirty: boolean;
  private _pos: number;
  private _timer: any;
  private _running: boolean;
  /* Entry being built: kind and sensor/quantity or interlock index (set by _select). */
  private _kind: number;
  private _s: number;
  private _q: number;

  /**
   * Reads DISCOVERY_FILE and works out what to remove. Sends nothing until start().
   * @param model the board's name for the device block (BoardInfo.name)
   * @param random 0 <= x < 1 (Math.random on the device), for the resend delay
   */
  constructor(config: Config, pub: Publisher, clock: Clock, storage: StoragePort, random: () => number, model: string) {
    this._cfg = config;
    this._pub = pub;
    this._clock = clock;
    this._storage = storage;
    this._random = random;
    this._model = model;
    this._timer = undefined;
    this._running = false;
    this._pos = 0;
    this._kind = K_SENSOR;
    this._s = 0;
    this._q = 0;
    var n = 0;
    if (config.homeassistant.discovery) {
      for (var s = 0; s < config.sensors.length; s++) for (var q = 0; q < 3; q++) if (hasQuantity(config.sensors[s].type, q)) n++;
      if (config.pump) n += 1 + config.pump.interlocks.length;
    }
    this._count = n;
    this._step = this._step.bind(this);
    this._begin = this._begin.bind(this);

    var old: any = null;
    try {
      old = storage.readJSON(DISCOVERY_FILE, true);
    } catch (e) {
      old = null;
    }
    if (!Array.isArray(old)) old = [];
    var current = this.topics();
    this.removals = [];
    for (var i = 0; i < old.length; i++) {
      if (typeof old[i] === "string" && current.indexOf(old[i]) < 0) this.removals.push(old[i]);
    }
    this._dirty = this.removals.length > 0 || old.length !== current.length;
  }

  /** Number of config messages this node announces (0 with discovery off). */
  count(): number {
    return this._count;
  }

  /** Every config topic this node announces, in sending order (boot and file writes only). */
  topics(): string[] {
    var list: string[] = [];
    for (var i = 0; i < this._count; i++) list.push(this.topic(i));
    return list;
  }

  /** Config topic of entry i (0 <= i < count()). */
  topic(i: number): string {
    this._select(i);
    var component = this._kind === K_SENSOR ? "sensor" : this._kind === K_SWITCH ? "switch" : "binary_sensor";
    return this._cfg.homeassistant.prefix + "/" + component + "/" + this._objectId() + "/config";
  }

  /**
   * Config payload (JSON) of entry i, built in one concatenation. Keys are Home Assistant's documented
   * abbreviations and topics start with "~" (the node's base topic), which halves the payload: the
   * sensor config is about 0.45 KB instead of 0.8 KB.
   */
  payload(i: number): string {
    this._select(i);
    var cfg = this._cfg;
    var pub = this._pub;
    var oid = this._objectId();
    var base = pub.base.substr(0, pub.base.length - 1);
    var head = "{\"~\":\"" + base + "\",\"uniq_id\":\"" + oid + "\",\"def_ent_id\":\"";
    if (this._kind === K_SENSOR) {
      var sc = cfg.sensors[this._s];
      var q = this._q;
      var name = quantityName(q);
      var longest = sc.intervalSeconds > sc.heartbeatSeconds ? sc.intervalSeconds : sc.heartbeatSeconds;
      return head + "sensor." + slug(oid) + "\",\"name\":\"" + (cfg.sensors.length > 1 ? sc.name + " " + name : name.charAt(0).toUpperCase() + name.substr(1)) +
        "\",\"stat_t\":\"~" + pub.readingTopics[this._s * 3 + q].substr(base.length) +
        "\",\"dev_cla\":\"" + (q === QT ? "temperature\",\"unit_of_meas\":\"\xC2\xB0C" : q === QH ? "humidity\",\"unit_of_meas\":\"%" : "atmospheric_pressure\",\"unit_of_meas\":\"hPa") +
        "\",\"stat_cla\":\"measurement\",\"sug_dsp_prc\":" + (q === QT ? sc.decimals.temperature : q === QH ? sc.decimals.humidity : sc.decimals.pressure) +
        (sc.heartbeatSeconds > 0 ? ",\"exp_aft\":" + Math.ceil(3 * longest) : "") + this._common() + "}";
    }
    if (this._kind === K_SWITCH) {
      return head + "switch." + slug(oid) + "\",\"name\":\"Pump\",\"ic\":\"mdi:water-pump\",\"cmd_t\":\"~/" + T_PUMP_SET + "\",\"stat_t\":\"~/" + T_PUMP +
        "\",\"pl_on\":\"" + ON + "\",\"pl_off\":\"" + OFF + "\",\"json_attr_t\":\"~/" + T_PUMP_ATTRIBUTES + "\"" + this._common() + "}";
    }
    var lock = cfg.pump!.interlocks[this._s].name;
    return head + "binary_sensor." + slug(oid) + "\",\"name\":\"Interlock " + lock + "\",\"stat_t\":\"~/" + T_INTERLOCK + "/" + lock +
      "\",\"pl_on\":\"" + ON + "\",\"pl_off\":\"" + OFF + "\"" + this._common() + "}";
  }

  /** Begin a round now (after every connect): removals first, then every config. */
  start(): void {
    this._cancel();
    this._running = true;
    this._begin();
  }

  /** Link down: stop sending (the next connect starts over). */
  stop(): void {
    this._cancel();
    this._running = false;
  }

  /** A message on <ha prefix>/status: "online" schedules a new round after 1-5 s. */
  haStatus(payload: string): void {
    if (payload !== ONLINE || !this._running || this._count + this.removals.length === 0) return;
    this._cancel();
    this._timer = this._clock.setTimeout(this._begin, RESEND_MIN_MS + Math.floor(this._random() * RESEND_SPREAD_MS));
  }

  /** True while a round is being sent (or waits to start). */
  busy(): boolean {
    return this._timer !== undefined;
  }

  _begin(): void {
    this._timer = undefined;
    this._pos = 0;
    this._step();
  }

  /* Send entry _pos (removals, then configs); the next one follows GAP_MS after it was accepted. */
  _step(): void {
    this._timer = undefined;
    if (!this._running) return;
    var r = this.removals.length;
    var i = this._pos;
    if (i >= r + this._count) {
      this._finish();
      return;
    }
    var ok = i < r ? this._pub.send(this.removals[i], "", 1, true) : this._pub.send(this.topic(i - r), this.payload(i - r), 1, true);
    if (ok) this._pos++;
    this._timer = this._clock.setTimeout(this._step, ok ? GAP_MS : RETRY_MS);
  }

  /* A whole round was accepted: record what is announced, once, when it changed. */
  _finish(): void {
    if (this._dirty) {
      this._storage.writeJSON(DISCOVERY_FILE, this.topics());
      this._dirty = false;
    }
    this.removals = [];
  }

  _cancel(): void {
    if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
    this._timer = undefined;
  }

  /* Decode entry index i into _kind, _s, _q. */
  _select(i: number): void {
    var sensors = this._cfg.sensors;
    for (var s = 0; s < sensors.length; s++) {
      for (var q = 0; q < 3; q++) {
        if (!hasQuantity(sensors[s].type, q)) continue;
        if (i === 0) {
          this._kind = K_SENSOR;
          this._s = s;
          this._q = q;
          return;
        }
        i--;
      }
    }
    if (i === 0) {
      this._kind = K_SWITCH;
      return;
    }
    this._kind = K_BINARY;
    this._s = i - 1;
  }

  /* Object id of the selected entry: <id>_<quantity>, <id>_<sensor>_<quantity>, <id>_pump, <id>_<interlock>. */
  _objectId(): string {
    var cfg = this._cfg;
    var id = cfg.device.id + "_";
    if (this._kind === K_SENSOR) return id + (cfg.sensors.length > 1 ? cfg.sensors[this._s].name + "_" : "") + quantityName(this._q);
    if (this._kind === K_SWITCH) return id + "pump";
    return id + cfg.pump!.interlocks[this._s].name;
  }

  /* Availability, device and origin blocks, shared by every entity (",..." without the closing brace). */
  _common(): string {
    var cfg = this._cfg;
    return ",\"avty_t\":\"~/" + T_STATUS + "\",\"pl_avail\":\"" + ONLINE + "\",\"pl_not_avail\":\"" + OFFLINE +
      "\",\"dev\":{\"ids\":[\"" + cfg.device.id + "\"],\"name\":" + JSON.stringify(cfg.device.name) + ",\"mdl\":" + JSON.stringify(this._model) +
      ",\"sw\":\"" + VERSION + "\",\"mf\":\"" + PROJECT + "\"},\"o\":{\"name\":\"" + PROJECT + "\",\"sw\":\"" + VERSION + "\",\"url\":\"" + SUPPORT_URL + "\"}";
  }
}
