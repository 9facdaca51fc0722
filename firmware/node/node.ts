/*
 * The node: connects the stages once they exist. Sensors are read on their intervals and their values go
 * through the filter chains to MQTT (topics and formats: publisher.ts); the pump's events become retained
 * topics; the MQTT client's events drive presence, the pump's link state, republishing and discovery.
 *
 * Everything it needs comes in from main.ts (board wiring) or, in tests, from fakes: a Clock, the MQTT
 * client, the pump, sensor factories, Storage and a log function.
 *
 * Failed reads publish nothing as data: the error goes to <prefix>/<id>/error once per change of state
 * (a new failure, or a different message while failing; not every failed interval), is reported again
 * after a reconnect if it could not be sent, and the sensor is tried again at its next interval. A sensor
 * whose constructor threw (chip missing at boot) is constructed again at each interval.
 *
 * QoS: state (pump, attributes, interlocks, readings) is published retained at QoS 0. It is republished
 * in full on every connect, so a message lost with a dying link is replaced at the next CONNACK, and state
 * never competes with discovery for the client's bounded QoS 1 in-flight list (a reconnect that resent
 * old QoS 1 messages used to fill it and drop the newest state). Presence ("online") and discovery use
 * QoS 1.
 *
 * Discovery rounds (the payloads: discovery.ts). Every connect starts a round (the broker may have lost
 * its retained messages); "online" on <ha prefix>/status (Home Assistant restarted) starts one after a
 * random 1-5 s, so that a house full of nodes does not answer at the same instant. A round sends its
 * messages one at a time: the next GAP_MS after the previous was accepted, RETRY_MS after a refusal
 * (in-flight list full). Removal: the config topics announced last time are kept in Storage
 * (DISCOVERY_FILE, a JSON list). At boot the list is compared with this config; topics no longer
 * configured (a sensor taken out, discovery turned off, another prefix) get an empty retained payload
 * first, which deletes the entity in Home Assistant and clears the broker's retained copy. The file is
 * rewritten, only when it changed, once a whole round has been accepted.
 *
 * Memory (ESP8266: 1600 JsVars for the whole firmware; ARCHITECTURE.md "Memory"): every function here
 * lives as long as the firmware (5 JsVars + 1 per parameter, about 3 more inside a TypeScript `class`),
 * and so does every field (1 JsVar for a number, 2 for a boolean or a short string). Hence:
 *  - one object, NodeApp, is publisher, client and pump listener and discovery runner; its factory runs
 *    once, inlined into main.ts's boot, and its methods sit in one prototype literal (NODE);
 *  - one function (_on) for the client's three callbacks and the discovery timer, one (pumpEvent) for
 *    the pump's three events, told apart by their arguments; publishing goes through one method (_send);
 *    the client's onError is the log function bound to a "mqtt:" prefix (no function of ours);
 *  - topics are built when published, from the base "<prefix>/<id>/" (publisher.ts), not kept; error
 *    payloads are built where they arise;
 *  - a sensor slot is a plain object with one bound function, for its timer and its driver alike;
 *  - of the config, only the few fields used later are copied (names, seconds, decimals packed in one
 *    number); flags are bits of one number; boot-time work (the removal list) runs in the factory.
 */
import type { Clock, Sample, Sensor } from "../types";
import type { Config } from "../config";
import { P_ALL_OFF, P_ATTRIBUTES, P_COMMAND, P_LINK_DOWN, P_LINK_UP, P_SENSOR_OK, type Pump, type PumpEvents } from "../pump/pump";
import { createSensorFilters, RESEND, type SensorFilters } from "../filters";
import { QT, QH, QP, quantityName, quantityMask, formatNumber, nodeBase, type MqttPort } from "./publisher";
import { discoveryConfig, DISCOVERY_FILE, GAP_MS, RETRY_MS, RESEND_MIN_MS, RESEND_SPREAD_MS, type StoragePort, type DiscoverySource } from "./discovery";
import { T_STATUS, T_ERROR, T_PUMP, T_PUMP_SET, T_PUMP_ATTRIBUTES, T_INTERLOCK, HA_STATUS, ONLINE, OFFLINE, ON, OFF } from "../constants";

/** The MQTT client as the node drives it (firmware/mqtt/client.ts). */
export interface ClientPort extends MqttPort {
  onConnect: (sessionPresent: boolean) => void;
  onClose: (reason: string) => void;
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
  onError: (message: string) => void;
  /** Clock time (ms) of the last packet received from the broker. */
  _rx: number;
  start(): void;
  end(): void;
}

/** The pump as the node drives it: the part of firmware/pump/pump.ts's interface it calls (tests pass fakes). */
export type PumpPort = Pick<Pump, "on" | "io">;

/** What main.ts (or a test) gives the node besides the config. Nothing of it is kept but what is used. */
export interface NodeParts {
  clock: Clock;
  storage: StoragePort;
  /** The board's name, for Home Assistant's device block. */
  model: string;
  /**
   * Console output, console.log on the device: its arguments joined by spaces make one line. Never given
   * credentials.
   */
  log: (...parts: string[]) => void;
  /**
   * One driver factory per config.sensors entry, same order. A factory may throw (chip missing); it is
   * then called again at every interval, and dropped once it has built the driver.
   */
  sensors: (() => Sensor)[];
  /**
   * Builds the MQTT client, given the topic of its Will (the node's status topic). Called once, by the
   * factory, which then takes over the client's callbacks and subscribes to the node's inputs; the
   * caller keeps its own reference to start the client once the network is up.
   */
  mqtt: (willTopic: string) => ClientPort;
}

/** Reason given to pump.allOff() on a graceful shutdown (E.on("kill")). */
export const R_SHUTDOWN = "shutdown";
/** First sensor read this long after construction, the next sensors staggered by SENSOR_STAGGER_MS. */
export const SENSOR_FIRST_MS = 2000;
export const SENSOR_STAGGER_MS = 700;

/* SensorSlot._f bits. */
const S_BUSY = 1;
const S_ERROR_SENT = 2;

/** One sensor: its driver, filter chains, timer and error state, and what discovery says of it. */
interface SensorSlot {
  _node: NodeApp;
  /** The driver factory, deleted once it has built the driver. */
  _make?: () => Sensor;
  _sensor: Sensor | null;
  _filters: SensorFilters;
  _timer: any;
  /** S_BUSY: a read is running; S_ERROR_SENT: _error reached the broker. */
  _f: number;
  /** Current failure; absent while the last read was good. */
  _error?: string;
  /** slotRun bound to this slot: the callback of its timer and of its driver. */
  _run: (err?: any, sample?: Sample) => void;
  // From the SensorConfig (discovery.ts DiscoverySensor): name, quantities, seconds, decimals.
  _name: string;
  _qm: number;
  _sec: number;
  _hb: number;
  _dec: number;
}

/*
 * A sensor slot's only callback (bound to the slot): the interval timer calls it with no argument, the
 * driver with its answer, whose error is null or an Error, never undefined (SampleCallback). Not told
 * apart by arguments.length: on Espruino a bound function always receives its declared parameters.
 * Timer: re-arm first (a fixed rate whatever the driver does), then read unless still busy.
 */
function slotRun(this: SensorSlot, err?: any, sample?: Sample): void {
  var node = this._node;
  if (err === undefined && sample === undefined) {
    this._timer = node._clock.setTimeout(this._run, this._sec * 1000);
    if (this._f & S_BUSY) return;
    if (!this._sensor) {
      try {
        this._sensor = this._make!();
        delete this._make;
      } catch (e) {
        err = e || "no driver";
      }
    }
    if (!err) {
      this._f |= S_BUSY;
      this._sensor!.sample(this._run);
      return;
    }
  } else {
    this._f &= ~S_BUSY;
  }
  if (err || !sample) {
    var message = err && err.message ? String(err.message) : err ? String(err) : "no sample";
    if (message === this._error) return;
    this._error = message;
    node._log("sensor " + this._name + ": " + message);
    var sent = node._send(node.base + T_ERROR, "{\"source\":" + JSON.stringify(this._name) + ",\"message\":" + JSON.stringify(message) + "}", 0, false);
    this._f = sent ? this._f | S_ERROR_SENT : this._f & ~S_ERROR_SENT;
    return;
  }
  if (this._error) node._log("sensor " + this._name + ": ok again");
  delete this._error;
  if (node.pump) node.pump.io(P_SENSOR_OK, this._name);
  for (var q = QT; q <= QP; q++) {
    if (!((this._qm >> q) & 1)) continue;
    var v = this._filters.push(q, q === QT ? sample.temperature : q === QH ? sample.humidity : sample.pressure);
    if (v !== null) node._send(node.base + (node._slots.length > 1 ? this._name + "/" : "") + quantityName(q), /*@__NOINLINE__*/ formatNumber(v, (this._dec >> (2 * q)) & 3), 0, true);
  }
}

/* NodeApp._flags bits; then, from bit N_LOCKS, two per interlock i: reported (2i), active (2i + 1). */
const N_PUMP_KNOWN = 1;
const N_DIRTY = 2;
const N_LOCKS = 2;

/*
 * PumpEvents, all three in one function (the node's onChange, onRefused and onInterlock), told apart by
 * their arguments: onChange(on: boolean, reason), onInterlock(name, active: boolean), onRefused(message).
 * The pin already holds the state: publish it (dropped while offline, republished on connect).
 */
function pumpEvent(this: NodeApp, a: boolean | string, b?: string | boolean): void {
  var base = this.base;
  if (typeof a === "boolean") {
    this._flags |= N_PUMP_KNOWN;
    this._log("pump: " + (a ? "ON" : "OFF") + " (" + b + ")");
    this._send(base + T_PUMP, a ? ON : OFF, 0, true);
  } else if (typeof b === "boolean") {
    var i = this._locks ? this._locks.indexOf(a) : -1;
    if (i < 0) return;
    var bit = 1 << (N_LOCKS + 2 * i);
    this._flags = (this._flags | bit) & ~(bit << 1);
    if (b) this._flags |= bit << 1;
    this._send(base + T_INTERLOCK + "/" + a, b ? ON : OFF, 0, true);
    return;
  } else {
    this._log("pump: refused: " + a);
    this._send(base + T_ERROR, "{\"source\":\"pump\",\"message\":" + JSON.stringify(a) + "}", 0, false);
  }
  // A change and a refusal both show in the attributes (reason; counters, last refusal).
  if (this.pump) this._send(base + T_PUMP_ATTRIBUTES, this.pump.io(P_ATTRIBUTES), 0, true);
}

/** The node: `NodeApp(config, parts)`, then set pump and start the client (see NodeParts.mqtt). */
export interface NodeApp extends PumpEvents, DiscoverySource {
  /** "<prefix>/<id>/": every node topic is this plus a suffix (constants.ts T_*). */
  base: string;
  /** The pump, set by main.ts once built with this node as its PumpEvents; null without one. */
  pump: PumpPort | null;
  /** Graceful shutdown: pump off, retained "offline", DISCONNECT (so the broker sends no Will). */
  shutdown(): void;

  // Internal: "_" names are mangled in the bundle.
  /** The MQTT client (parts.mqtt, which hands it to main.ts as well: it starts it). */
  _client: ClientPort;
  _clock: Clock;
  _log: (...parts: string[]) => void;
  _storage: StoragePort;
  _slots: SensorSlot[];
  /** N_* bits: the pump's state was reported, ha.json must be rewritten, interlocks as last reported. */
  _flags: number;
  /** Topics to empty at the start of the next round (announced last boot, no longer configured); deleted once done. */
  _dRemove?: string[];
  /** Next message of the round (removals first, then configs); -1 when no round runs. */
  _dPos: number;
  /** The round's timer; absent when none is set. */
  _dTimer?: any;
  /** _on bound to this: the client's onConnect, onClose, onMessage and the discovery timer. */
  _cb: (a?: boolean | string, payload?: string, retained?: boolean) => void;
  _on(a?: boolean | string, payload?: string, retained?: boolean): void;
  _send(topic: string, payload: string, qos: number, retain: boolean): boolean;
}

/**
 * `NodeApp(config, parts)` (or with new): copies what it needs of the config, reads the discovery list
 * from Storage, arms the sensor timers (first read after SENSOR_FIRST_MS) and builds the MQTT client
 * (parts.mqtt), taking over its callbacks and subscribing to the node's inputs (the client remembers
 * them). No pin, no network: start the client. A factory rather than a constructor: main.ts calls it
 * once, the minifier inlines it there, and none of this code stays in memory; the node's methods are
 * in NODE, its prototype.
 */
export var NodeApp = function (config: Config, parts: NodeParts): NodeApp {
  var node: NodeApp = Object.create(NODE);
  var base = (node.base = /*@__INLINE__*/ nodeBase(config));
  node.pump = null;
  node._clock = parts.clock;
  node._log = parts.log;
  node._storage = parts.storage;
  node._flags = 0;
  node._locks = null;
  if (config.pump) {
    node._locks = [];
    for (var l = 0; l < config.pump.interlocks.length; l++) node._locks.push(config.pump.interlocks[l].name);
  }
  node._ha = config.homeassistant.discovery ? config.homeassistant.prefix : "";
  node._devName = config.device.name;
  node._model = parts.model;
  node._dPos = -1;
  node._cb = node._on.bind(node);
  node._slots = [];
  for (var s = 0; s < config.sensors.length; s++) {
    var sc = config.sensors[s];
    var slot: SensorSlot = {
      _node: node,
      _make: parts.sensors[s],
      _sensor: null,
      _filters: createSensorFilters(sc, parts.clock),
      _timer: undefined,
      _f: 0,
      _run: slotRun,
      _name: sc.name,
      _qm: /*@__INLINE__*/ quantityMask(sc.type),
      _sec: sc.intervalSeconds,
      _hb: sc.heartbeatSeconds,
      _dec: sc.decimals.temperature | (sc.decimals.humidity << 2) | (sc.decimals.pressure << 4)
    };
    slot._run = slotRun.bind(slot);
    node._slots.push(slot);
    slot._timer = parts.clock.setTimeout(slot._run, SENSOR_FIRST_MS + s * SENSOR_STAGGER_MS);
  }

  // Boot comparison: what was announced last time and is no longer configured gets removed.
  var old: any = null;
  try {
    old = parts.storage.readJSON(DISCOVERY_FILE, true);
  } catch (e) {
    old = null;
  }
  if (!Array.isArray(old)) old = [];
  var current: string[] = [];
  for (var entry, i = 0; (entry = discoveryConfig(node, i)); i++) current.push(entry[0]);
  var remove: string[] = [];
  for (var k = 0; k < old.length; k++) {
    if (typeof old[k] === "string" && current.indexOf(old[k]) < 0) remove.push(old[k]);
  }
  if (remove.length) node._dRemove = remove;
  if (remove.length || old.length !== current.length) node._flags |= N_DIRTY;

  var client = (node._client = parts.mqtt(base + T_STATUS));
  client.onConnect = client.onClose = client.onMessage = node._cb;
  // Error lines need no code of ours: the log (console.log) with a prefix, joined by a space.
  client.onError = parts.log.bind(null, "mqtt:");
  if (node._locks) client.subscribe(base + T_PUMP_SET, 1);
  if (node._ha) client.subscribe(node._ha + "/" + HA_STATUS, 1);
  return node;
} as any as { (config: Config, parts: NodeParts): NodeApp; new (config: Config, parts: NodeParts): NodeApp };

var NODE = {
  shutdown: function (this: NodeApp): void {
    if (this.pump) this.pump.io(P_ALL_OFF, R_SHUTDOWN);
    for (var i = 0; i < this._slots.length; i++) {
      var slot = this._slots[i];
      if (slot._timer !== undefined) this._clock.clearTimeout(slot._timer);
      slot._timer = undefined;
      if (slot._sensor) slot._sensor.close();
      slot._sensor = null;
    }
    if (this._dTimer !== undefined) this._clock.clearTimeout(this._dTimer);
    delete this._dTimer;
    this._dPos = -1;
    this._send(this.base + T_STATUS, OFFLINE, 1, true);
    this._client.end();
  },

  // PumpEvents: onChange, onRefused and onInterlock are all pumpEvent (above).
  onChange: pumpEvent,
  onRefused: pumpEvent,
  onInterlock: pumpEvent,

  /*
   * The client's three callbacks and the discovery timer in one function (bound once as _cb), told apart
   * by their arguments, which the client's API fixes:
   *   onConnect(sessionPresent: boolean)                         a boolean
   *   onMessage(topic: string, payload: string, retained, ...)   a string and a string
   *   onClose(reason: string)                                    a string alone
   *   the discovery timer                                        nothing
   */
  _on: function (this: NodeApp, a?: boolean | string, payload?: string, retained?: boolean): void {
    var base = this.base;
    var pump = this.pump;
    if (a === undefined) {
      // Discovery: send message _dPos of the round, or end the round after the last one.
      delete this._dTimer;
      if (this._dPos < 0) return;
      var remove = this._dRemove;
      var r = remove ? remove.length : 0;
      var entry = this._dPos < r ? [remove![this._dPos], ""] : discoveryConfig(this, this._dPos - r);
      if (entry) {
        var ok = this._send(entry[0], entry[1], 1, true);
        if (ok) this._dPos++;
        this._dTimer = this._clock.setTimeout(this._cb, ok ? GAP_MS : RETRY_MS);
        return;
      }
      // The whole round was accepted: record what is announced, once, when it changed.
      this._dPos = -1;
      delete this._dRemove;
      if (!(this._flags & N_DIRTY)) return;
      var list: string[] = [];
      for (var e, j = 0; (e = discoveryConfig(this, j)); j++) list.push(e[0]);
      this._storage.writeJSON(DISCOVERY_FILE, list);
      this._flags &= ~N_DIRTY;
    } else if (typeof a === "boolean") {
      // Connected: presence, then every retained state again, then a discovery round.
      this._log("mqtt: connected" + (a ? " (session present)" : ""));
      this._send(base + T_STATUS, ONLINE, 1, true);
      if (pump) {
        pump.io(P_LINK_UP);
        if (this._flags & N_PUMP_KNOWN) {
          this._send(base + T_PUMP, pump.on ? ON : OFF, 0, true);
          this._send(base + T_PUMP_ATTRIBUTES, pump.io(P_ATTRIBUTES), 0, true);
        }
        var locks = this._locks || [];
        for (var i = 0; i < locks.length; i++) {
          var bit = 1 << (N_LOCKS + 2 * i);
          if (this._flags & bit) this._send(base + T_INTERLOCK + "/" + locks[i], this._flags & (bit << 1) ? ON : OFF, 0, true);
        }
      }
      // A sensor error that could not be sent goes now; readings go again at the next interval.
      for (var s = 0; s < this._slots.length; s++) {
        var slot = this._slots[s];
        if (slot._error && !(slot._f & S_ERROR_SENT)) {
          if (this._send(base + T_ERROR, "{\"source\":" + JSON.stringify(slot._name) + ",\"message\":" + JSON.stringify(slot._error) + "}", 0, false)) slot._f |= S_ERROR_SENT;
        }
        slot._filters.push(RESEND);
      }
      if (this._dTimer !== undefined) this._clock.clearTimeout(this._dTimer);
      this._dPos = 0;
      this._on();
    } else if (typeof payload === "string") {
      if (a === base + T_PUMP_SET) {
        if (pump) pump.io(P_COMMAND, payload, !!retained);
      } else if (this._ha && a === this._ha + "/" + HA_STATUS && payload === ONLINE && (this._dRemove || discoveryConfig(this, 0))) {
        // Home Assistant restarted: a new round after 1-5 s (one round, however many "online" arrive).
        if (this._dTimer !== undefined) this._clock.clearTimeout(this._dTimer);
        this._dPos = 0;
        this._dTimer = this._clock.setTimeout(this._cb, RESEND_MIN_MS + Math.floor(Math.random() * RESEND_SPREAD_MS));
      }
    } else {
      // Closed: the pump counts down to its link-lost OFF from the last packet heard (a silently dead link
      // is found by keepalive only 1.5 x keepalive later); the round stops (the next connect starts over).
      if (pump) pump.io(P_LINK_DOWN, this._client._rx);
      if (this._dTimer !== undefined) this._clock.clearTimeout(this._dTimer);
      delete this._dTimer;
      this._dPos = -1;
      this._log("mqtt: closed (" + a + ")");
    }
  },

  /** Publish when connected; false when offline or dropped by the client. */
  _send: function (this: NodeApp, topic: string, payload: string, qos: number, retain: boolean): boolean {
    var c = this._client;
    return c.connected && c.publish(topic, payload, qos, retain);
  }
} as any as NodeApp;
