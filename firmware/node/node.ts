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
 *  - one plain object, NodeApp, is publisher, client and pump listener and discovery runner; its factory
 *    runs once, inlined into main.ts's boot;
 *  - one function, nodeEvent, is the node's every method and callback (the sensors' timers and drivers,
 *    the client's onConnect, onMessage and onClose, the pump's three events, the discovery timer,
 *    shutdown), told apart by `this` and the arguments; the client's onError is one more (mqttError).
 *    Only the sensor slots hold a bound copy; the client and E (the kill hook) find the node in _node;
 *  - the client is called directly: QoS 0 publishes are dropped by the client itself while offline;
 *  - topics are built when published, from the base "<prefix>/<id>/" (publisher.ts), not kept; error
 *    payloads are built where they arise;
 *  - a sensor slot is a plain object with one bound function, for its timer and its driver alike, and
 *    keeps no timer id; the slots are chained through _next (one field of the node, not an array);
 *  - of the config, only the few fields used later are copied (names, seconds); quantities, decimals and
 *    a slot's state are bits of one number, the node's flags of another; a discovery round's state
 *    exists only while it runs; boot-time work (the removal list) runs in the factory.
 */
import type { Clock, Sample, Sensor } from "../types";
import type { Config } from "../config";
import { P_ALL_OFF, P_ATTRIBUTES, P_COMMAND, P_LINK_DOWN, P_LINK_UP, P_SENSOR_OK, type Pump, type PumpEvents } from "../pump/pump";
import { createSensorFilters, RESEND, type SensorFilters } from "../filters";
import { QT, QH, QP, M_QM, M_DEC, quantityMask, formatNumber, nodeBase, type MqttPort } from "./publisher";
import { discoveryConfig, DISCOVERY_FILE, GAP_MS, RETRY_MS, RESEND_MIN_MS, RESEND_SPREAD_MS, type StoragePort, type DiscoverySource, type DiscoverySensor } from "./discovery";
import { T_STATUS, T_ERROR, T_PUMP, T_PUMP_SET, T_PUMP_ATTRIBUTES, T_INTERLOCK, HA_STATUS, ONLINE, OFFLINE, ON, OFF, Q_TEMPERATURE, Q_HUMIDITY, Q_PRESSURE } from "../constants";

/**
 * The MQTT client as the node drives it (firmware/mqtt/client.ts). It calls its callbacks as its own
 * methods (`this` is the client), and they find the node in _node, which the node sets.
 */
export interface ClientPort extends MqttPort {
  onConnect: (sessionPresent: boolean) => void;
  onClose: (reason: string) => void;
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
  onError: (message: string) => void;
  /** Clock time (ms) of the last packet received from the broker. */
  _rx: number;
  /** The node whose callbacks these are (set by NodeApp). */
  _node?: NodeApp;
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

/** Reason given to the pump's P_ALL_OFF on a graceful shutdown (shutdown(), E.on("kill")). */
export const R_SHUTDOWN = "shutdown";
/** First sensor read this long after construction, the next sensors staggered by SENSOR_STAGGER_MS. */
export const SENSOR_FIRST_MS = 2000;
export const SENSOR_STAGGER_MS = 700;

/* SensorSlot._m, bits 0-1 (the quantities and decimals follow: publisher.ts M_*). */
const S_BUSY = 1;
const S_ERROR_SENT = 2;

/**
 * One sensor: its driver, filter chains, timer and error state, and what discovery says of it
 * (DiscoverySensor: _name, _sec and _hb from its SensorConfig; _m: S_BUSY, a read is running;
 * S_ERROR_SENT, _error reached the broker; then the quantities and decimals, publisher.ts M_*).
 */
interface SensorSlot extends DiscoverySensor {
  _node: NodeApp;
  _next?: SensorSlot;
  /** The driver factory, deleted once it has built the driver. */
  _make?: () => Sensor;
  _sensor: Sensor | null;
  _filters: SensorFilters;
  /** Current failure; absent while the last read was good. */
  _error?: string;
  /**
   * nodeEvent bound to this slot: the callback of its timer and of its driver. Deleted by shutdown, which
   * stops the timer that way: its id is not kept (Espruino never reuses timer ids, and an id past 1023
   * no longer fits in the property itself: a JsVar more for good).
   */
  _run?: (err?: any, sample?: Sample) => void;
}

/*
 * NodeApp._flags bits; then, from bit N_LOCKS, two per interlock i: reported (2i), active (2i + 1). With
 * at most 4 interlocks (config.ts) it stays below 1024, inside the property itself (publisher.ts M_*).
 */
const N_PUMP_KNOWN = 1;
const N_DIRTY = 2;
const N_LOCKS = 2;

/*
 * Every entry point of the node but the client's onError (mqttError), in one function: told apart first
 * by who calls it, `this`, then by the arguments, which the client's, the pump's and the drivers' APIs
 * fix:
 *   this = a sensor slot (its _run, the one bound copy kept, one per sensor):
 *     its interval timer                          nothing
 *     its driver's answer (SampleCallback)        an error (null or an Error, never undefined), a sample
 *   this = the client, for its onConnect, onMessage, onClose:
 *     onConnect(sessionPresent)                   a boolean
 *     onMessage(topic, payload, retained, ...)    a string and a string
 *     onClose(reason)                             a string alone
 *   this = the node:
 *     onChange(on, reason)         the pump       a boolean
 *     onInterlock(name, active)    the pump       a string and a boolean
 *     onRefused(message)           the pump       a string alone
 *     the discovery timer                         0 (a copy bound to the node with 0, made when armed)
 *     shutdown()                                  nothing
 *   this = E, for E.on("kill") (platform.ts onKill)  nothing: shutdown
 * Bound copies exist only for the slots (kept, one each) and the discovery timer (while it is armed; a
 * bound copy repeats nodeEvent's parameters: 7 JsVars): the client, the pump and E call their callbacks
 * as methods of the object that holds them (ClientPort, PumpEvents, E), and the slots, the client and E
 * hold the node in their _node. Not told apart by arguments.length: on Espruino a bound function always
 * receives its declared parameters.
 * Readings, errors and state are published at QoS 0, which the client drops (false) while offline: state
 * is republished on connect, a sensor error too, readings go again at the next interval.
 */
function nodeEvent(this: NodeApp | ClientPort | SensorSlot, a?: any, b?: any, c?: boolean): void {
  var node: NodeApp = (this as ClientPort)._node || (this as NodeApp);
  var client = node._client;
  var clock = node._clock;
  var base = node.base;
  var pump = node.pump;
  var locks = node._locks || [];
  // All declared up here: formatNumber is inlined into a loop below, and Espruino does not hoist var
  // (a var the minifier placed after its use would miss).
  var i, bit, each, remove, entry, ok, list, v;
  // The sensor slot this is, if it is one (the last section of this function).
  var slot = (this as SensorSlot)._filters ? (this as SensorSlot) : null;
  if (this === client) {
    if (typeof a !== "boolean") {
      if (typeof b === "string") {
        if (a === base + T_PUMP_SET) {
          if (pump) pump.io(P_COMMAND, b, !!c);
        } else if (node._ha && a === node._ha + "/" + HA_STATUS && b === ONLINE && (node._dRemove || discoveryConfig(node, 0))) {
          // Home Assistant restarted: a new round after 1-5 s (one round, however many "online" arrive).
          if (node._dTimer !== undefined) clock.clearTimeout(node._dTimer);
          node._dPos = 0;
          node._dTimer = clock.setTimeout(nodeEvent.bind(node, 0), RESEND_MIN_MS + Math.floor(Math.random() * RESEND_SPREAD_MS));
        }
      } else {
        // Closed: the pump counts down to its link-lost OFF from the last packet heard (a silently dead
        // link is found by keepalive only 1.5 x keepalive later); the round stops (the next connect
        // starts over).
        if (pump) pump.io(P_LINK_DOWN, client._rx);
        if (node._dTimer !== undefined) clock.clearTimeout(node._dTimer);
        delete node._dTimer;
        delete node._dPos;
        node._log("mqtt: closed (" + a + ")");
      }
      return;
    }
    // Connected: presence, then every retained state again, then a discovery round (below).
    node._log("mqtt: connected" + (a ? " (session present)" : ""));
    client.publish(base + T_STATUS, ONLINE, 1, true);
    if (pump) {
      pump.io(P_LINK_UP);
      if (node._flags & N_PUMP_KNOWN) {
        client.publish(base + T_PUMP, pump.on ? ON : OFF, 0, true);
        client.publish(base + T_PUMP_ATTRIBUTES, pump.io(P_ATTRIBUTES), 0, true);
      }
      for (i = 0; i < locks.length; i++) {
        bit = 1 << (N_LOCKS + 2 * i);
        if (node._flags & bit) client.publish(base + T_INTERLOCK + "/" + locks[i], node._flags & (bit << 1) ? ON : OFF, 0, true);
      }
    }
    // A sensor error that could not be sent goes now; readings go again at the next interval.
    for (each = node._slots; each; each = each._next) {
      if (each._error && !(each._m & S_ERROR_SENT) && client.publish(base + T_ERROR, "{\"source\":" + JSON.stringify(each._name) + ",\"message\":" + JSON.stringify(each._error) + "}", 0, false)) each._m |= S_ERROR_SENT;
      each._filters.push(RESEND);
    }
    if (node._dTimer !== undefined) clock.clearTimeout(node._dTimer);
    node._dPos = 0;
  } else if (!slot && a !== 0) {
    if (a === undefined) {
      // shutdown(), or E's "kill"
      if (pump) pump.io(P_ALL_OFF, R_SHUTDOWN);
      for (each = node._slots; each; each = each._next) {
        delete each._run; // its timer fires once more, finds no _run, and stops
        if (each._sensor) each._sensor.close();
        each._sensor = null;
      }
      if (node._dTimer !== undefined) clock.clearTimeout(node._dTimer);
      delete node._dTimer;
      delete node._dPos;
      // QoS 1 is queued while offline: only sent when it can go before the DISCONNECT.
      if (client.connected) client.publish(base + T_STATUS, OFFLINE, 1, true);
      client.end();
      return;
    }
    // The pump's events. The pin already holds the state: publish it.
    if (typeof b === "boolean") {
      i = locks.indexOf(a);
      if (i < 0) return;
      bit = 1 << (N_LOCKS + 2 * i);
      node._flags = (node._flags | bit) & ~(bit << 1);
      if (b) node._flags |= bit << 1;
      client.publish(base + T_INTERLOCK + "/" + a, b ? ON : OFF, 0, true);
      return;
    }
    if (typeof a === "boolean") {
      node._flags |= N_PUMP_KNOWN;
      node._log("pump: " + (a ? "ON" : "OFF") + " (" + b + ")");
      client.publish(base + T_PUMP, a ? ON : OFF, 0, true);
    } else {
      node._log("pump: refused: " + a);
      client.publish(base + T_ERROR, "{\"source\":\"pump\",\"message\":" + JSON.stringify(a) + "}", 0, false);
    }
    // A change and a refusal both show in the attributes (reason; counters, last refusal).
    if (pump) client.publish(base + T_PUMP_ATTRIBUTES, pump.io(P_ATTRIBUTES), 0, true);
    return;
  }
  if (!slot) {
    // Discovery: send message _dPos of the round, or end the round after the last one.
    delete node._dTimer;
    if (node._dPos === undefined) return;
    remove = node._dRemove;
    i = remove ? remove.length : 0;
    entry = node._dPos < i ? [remove![node._dPos], ""] : discoveryConfig(node, node._dPos - i);
    if (entry) {
      // QoS 1 would be queued while offline: a round sends only when connected, and tries again later.
      ok = client.connected && client.publish(entry[0], entry[1], 1, true);
      if (ok) node._dPos++;
      node._dTimer = clock.setTimeout(nodeEvent.bind(node, 0), ok ? GAP_MS : RETRY_MS);
      return;
    }
    // The whole round was accepted: record what is announced, once, when it changed.
    delete node._dPos;
    delete node._dRemove;
    if (!(node._flags & N_DIRTY)) return;
    list = [];
    for (i = 0; (entry = discoveryConfig(node, i)); i++) list.push(entry[0]);
    node._storage.writeJSON(DISCOVERY_FILE, list);
    node._flags &= ~N_DIRTY;
    return;
  }
  // A sensor slot: a is the driver's error, b its sample; both undefined for the timer, which re-arms
  // first (a fixed rate whatever the driver does), then reads unless a read is still running. Last in
  // this function: the minifier declares the variables of the inlined formatNumber after the statement
  // that uses them, and only at the end can it join them to the declaration on top (tools/guard.ts
  // refuses a bundle where it did not).
  if (a === undefined && b === undefined) {
    if (!slot._run) return;
    clock.setTimeout(slot._run, slot._sec * 1000);
    if (slot._m & S_BUSY) return;
    if (!slot._sensor) {
      try {
        slot._sensor = slot._make!();
        delete slot._make;
      } catch (e) {
        a = e || "no driver";
      }
    }
    if (!a) {
      slot._m |= S_BUSY;
      slot._sensor!.sample(slot._run!);
      return;
    }
  } else {
    slot._m &= ~S_BUSY;
  }
  if (a || !b) {
    a = a && a.message ? String(a.message) : a ? String(a) : "no sample";
    if (a === slot._error) return;
    slot._error = a;
    node._log("sensor " + slot._name + ": " + a);
    slot._m = client.publish(base + T_ERROR, "{\"source\":" + JSON.stringify(slot._name) + ",\"message\":" + JSON.stringify(a) + "}", 0, false) ? slot._m | S_ERROR_SENT : slot._m & ~S_ERROR_SENT;
    return;
  }
  if (slot._error) node._log("sensor " + slot._name + ": ok again");
  delete slot._error;
  if (pump) pump.io(P_SENSOR_OK, slot._name);
  for (i = QT; i <= QP; i++) {
    if (!((slot._m >> (M_QM + i)) & 1)) continue;
    v = slot._filters.push(i, i === QT ? b.temperature : i === QH ? b.humidity : b.pressure);
    if (v !== null) client.publish(base + (node._slots!._next ? slot._name + "/" : "") + (i === QT ? Q_TEMPERATURE : i === QH ? Q_HUMIDITY : Q_PRESSURE), /*@__INLINE__*/ formatNumber(v, (slot._m >> (M_DEC + 2 * i)) & 3), 0, true);
  }
}

/* The client's onError (this = the client): one console line. */
function mqttError(this: ClientPort, message: string): void {
  this._node!._log("mqtt: " + message);
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
  /** The first sensor slot, the others chained through _next (one field, not an array); absent without sensors. */
  _slots?: SensorSlot;
  /** N_* bits: the pump's state was reported, ha.json must be rewritten, interlocks as last reported. */
  _flags: number;
  /** Topics to empty at the start of the next round (announced last boot, no longer configured); deleted once done. */
  _dRemove?: string[];
  /** Next message of the round (removals first, then configs); absent when no round runs. */
  _dPos?: number;
  /** The round's timer; absent when none is set. */
  _dTimer?: any;
}

/**
 * `NodeApp(config, parts)` (or with new): copies what it needs of the config, reads the discovery list
 * from Storage, arms the sensor timers (first read after SENSOR_FIRST_MS) and builds the MQTT client
 * (parts.mqtt), taking over its callbacks and subscribing to the node's inputs (the client remembers
 * them). No pin, no network: start the client. A factory rather than a constructor: main.ts calls it
 * once, the minifier inlines it there, and none of this code stays in memory. The node is a plain
 * object whose methods are nodeEvent itself.
 */
export var NodeApp = function (config: Config, parts: NodeParts): NodeApp {
  var base = /*@__INLINE__*/ nodeBase(config);
  var client = parts.mqtt(base + T_STATUS);
  var locks: string[] | null = null;
  if (config.pump) {
    locks = [];
    for (var l = 0; l < config.pump.interlocks.length; l++) locks.push(config.pump.interlocks[l].name);
  }
  var node: NodeApp = {
    base: base,
    pump: null,
    shutdown: nodeEvent,
    onChange: nodeEvent,
    onRefused: nodeEvent,
    onInterlock: nodeEvent,
    _client: client,
    _clock: parts.clock,
    _log: parts.log,
    _storage: parts.storage,
    _flags: 0,
    _locks: locks,
    _ha: config.homeassistant.discovery ? config.homeassistant.prefix : "",
    _devName: config.device.name,
    _model: parts.model
  };
  var last: SensorSlot | null = null;
  for (var s = 0; s < config.sensors.length; s++) {
    var sc = config.sensors[s];
    var slot: SensorSlot = {
      _node: node,
      _make: parts.sensors[s],
      _sensor: null,
      _filters: createSensorFilters(sc, parts.clock),
      _run: nodeEvent,
      _name: sc.name,
      _sec: sc.intervalSeconds,
      _hb: sc.heartbeatSeconds,
      _m: (/*@__INLINE__*/ quantityMask(sc.type) << M_QM) | ((sc.decimals.temperature | (sc.decimals.humidity << 2) | (sc.decimals.pressure << 4)) << M_DEC)
    };
    slot._run = nodeEvent.bind(slot);
    if (last) last._next = slot;
    else node._slots = slot;
    last = slot;
    parts.clock.setTimeout(slot._run, SENSOR_FIRST_MS + s * SENSOR_STAGGER_MS);
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

  client._node = node;
  client.onConnect = client.onClose = client.onMessage = nodeEvent;
  client.onError = mqttError;
  if (locks) client.subscribe(base + T_PUMP_SET, 1);
  if (node._ha) client.subscribe(node._ha + "/" + HA_STATUS, 1);
  return node;
} as any as { (config: Config, parts: NodeParts): NodeApp; new (config: Config, parts: NodeParts): NodeApp };
