/*
 * The node: connects the stages once they exist. Sensors are read on their intervals and their values go
 * through the filter chains to the publisher; the pump's events become retained topics; the MQTT
 * client's events drive presence, the pump's link state, republishing and discovery.
 *
 * Everything it needs comes in from main.ts (board wiring) or, in tests, from fakes: a Clock, the MQTT
 * client, the pump, sensor factories, Storage and a log function. Handlers are bound once here; nothing
 * is allocated per reading except what the driver returns.
 *
 * Failed reads publish nothing as data: the error goes to <prefix>/<id>/error once per change of state
 * (a new failure, or a different message while failing; not every failed interval), is reported again
 * after a reconnect if it could not be sent, and the sensor is tried again at its next interval. A sensor
 * whose constructor threw (chip missing at boot) is constructed again at each interval.
 */
import type { Clock, Sample, Sensor } from "../types";
import type { Config, SensorConfig } from "../config";
import { SensorFilters, QuantityFilter } from "../filters";
import { Publisher, QT, QH, QP, type MqttPort } from "./publisher";
import { Discovery, type StoragePort } from "./discovery";
import type { PumpEvents } from "../pump/pump";

/** The MQTT client as the node drives it (firmware/mqtt/client.ts). */
export interface ClientPort extends MqttPort {
  onConnect: (sessionPresent: boolean) => void;
  onClose: (reason: string) => void;
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
  onError: (message: string) => void;
  start(): void;
  end(): void;
}

/** The pump as the node drives it (firmware/pump/pump.ts). */
export interface PumpPort {
  readonly on: boolean;
  command(payload: string, retained: boolean): void;
  linkUp(): void;
  linkDown(): void;
  sensorOk(name: string): void;
  attributes(): string;
  allOff(reason: string): void;
}

/** Reason given to pump.allOff() on a graceful shutdown (E.on("kill")). */
export const R_SHUTDOWN = "shutdown";

/** One sensor, its filter chains, its timer and its error state. Internal to the node. */
class SensorSlot {
  _node: NodeApp;
  _index: number;
  _cfg: SensorConfig;
  _make: () => Sensor;
  _sensor: Sensor | null;
  _filters: SensorFilters;
  _timer: any;
  _busy: boolean;
  /** Current failure ("" when the last read was good) and whether it reached the broker. */
  _error: string;
  _errorSent: boolean;

  constructor(node: NodeApp, index: number, cfg: SensorConfig, make: () => Sensor, clock: Clock) {
    this._node = node;
    this._index = index;
    this._cfg = cfg;
    this._make = make;
    this._sensor = null;
    this._filters = new SensorFilters(cfg, clock);
    this._timer = undefined;
    this._busy = false;
    this._error = "";
    this._errorSent = false;
    this._tick = this._tick.bind(this);
    this._done = this._done.bind(this);
  }

  /* One interval: re-arm first (a fixed rate whatever the driver does), then read unless still busy. */
  _tick(): void {
    var node = this._node;
    this._timer = node._clock.setTimeout(this._tick, this._cfg.intervalSeconds * 1000);
    if (this._busy) return;
    if (!this._sensor) {
      try {
        this._sensor = this._make();
      } catch (e: any) {
        this._fail(e && e.message ? e.message : String(e));
        return;
      }
    }
    this._busy = true;
    this._sensor.sample(this._done);
  }

  _done(err: Error | null, sample?: Sample): void {
    this._busy = false;
    if (err || !sample) {
      this._fail(err && err.message ? err.message : "no sample");
      return;
    }
    var node = this._node;
    if (this._error) node._log("sensor " + this._cfg.name + ": ok again");
    this._error = "";
    this._errorSent = false;
    if (node._pump) node._pump.sensorOk(this._cfg.name);
    var f = this._filters;
    this._push(QT, f.temperature, sample.temperature, this._cfg.decimals.temperature);
    this._push(QH, f.humidity, sample.humidity, this._cfg.decimals.humidity);
    this._push(QP, f.pressure, sample.pressure, this._cfg.decimals.pressure);
  }

  _push(q: number, f: QuantityFilter | null, value: number | undefined, decimals: number): void {
    if (!f) return;
    var v = f.push(value);
    if (v !== null) this._node.pub.reading(this._index, q, v, decimals);
  }

  _fail(message: string): void {
    if (message === this._error) return;
    this._error = message;
    this._node._log("sensor " + this._cfg.name + ": " + message);
    this._errorSent = this._node.pub.error(this._cfg.name, message);
  }

  /* After a connect: an error that could not be sent goes now; readings go again at the next interval. */
  _connected(): void {
    if (this._error && !this._errorSent) this._errorSent = this._node.pub.error(this._cfg.name, this._error);
    this._filters.resend();
  }

  _stop(): void {
    if (this._timer !== undefined) this._node._clock.clearTimeout(this._timer);
    this._timer = undefined;
    if (this._sensor) this._sensor.close();
    this._sensor = null;
  }
}

export class NodeApp implements PumpEvents {
  pub: Publisher;
  discovery: Discovery;
  _clock: Clock;
  _log: (line: string) => void;
  _client: ClientPort | null;
  _pump: PumpPort | null;
  _slots: SensorSlot[];
  /** Interlock states as last reported by the pump: -1 unknown, 0 inactive, 1 active. */
  _locks: number[];
  _pumpKnown: boolean;
  private _cfg: Config;

  /**
   * Pure construction: topics built, the discovery list compared with Storage; no pin, no network.
   * @param model board name for Home Assistant's device block
   * @param random 0 <= x < 1, for Home Assistant's resend delay
   * @param log one console line (main.ts passes console.log); never given credentials
   */
  constructor(config: Config, clock: Clock, storage: StoragePort, random: () => number, model: string, log: (line: string) => void) {
    this._cfg = config;
    this._clock = clock;
    this._log = log;
    this._client = null;
    this._pump = null;
    this._slots = [];
    this._locks = [];
    this._pumpKnown = false;
    var n = config.pump ? config.pump.interlocks.length : 0;
    for (var i = 0; i < n; i++) this._locks.push(-1);
    this.pub = new Publisher(config);
    this.discovery = new Discovery(config, this.pub, clock, storage, random, model);
    this._onConnect = this._onConnect.bind(this);
    this._onClose = this._onClose.bind(this);
    this._onMessage = this._onMessage.bind(this);
    this._onError = this._onError.bind(this);
  }

  /** The pump, constructed by main.ts with this node as its PumpEvents. */
  setPump(pump: PumpPort): void {
    this._pump = pump;
  }

  /**
   * Add the next sensor (config.sensors order). `make` builds the driver; it may throw (chip missing),
   * and is then tried again at every interval. The first read comes after `firstDelayMs`.
   */
  addSensor(make: () => Sensor, firstDelayMs: number): void {
    var i = this._slots.length;
    var slot = new SensorSlot(this, i, this._cfg.sensors[i], make, this._clock);
    this._slots.push(slot);
    slot._timer = this._clock.setTimeout(slot._tick, firstDelayMs);
  }

  /**
   * Take over the client's callbacks and subscribe to the node's inputs (the client remembers them).
   * Call before client.start().
   */
  attach(client: ClientPort): void {
    this._client = client;
    this.pub.client = client;
    client.onConnect = this._onConnect;
    client.onClose = this._onClose;
    client.onMessage = this._onMessage;
    client.onError = this._onError;
    if (this._pump) client.subscribe(this.pub.pumpSetTopic, 1);
    if (this._cfg.homeassistant.discovery) client.subscribe(this.pub.haStatusTopic, 1);
  }

  /** Graceful shutdown: pump off, retained "offline", DISCONNECT (so the broker sends no Will). */
  shutdown(): void {
    if (this._pump) this._pump.allOff(R_SHUTDOWN);
    for (var i = 0; i < this._slots.length; i++) this._slots[i]._stop();
    this.discovery.stop();
    this.pub.offline();
    if (this._client) this._client.end();
  }

  // PumpEvents: the pin already holds the state; publish it (dropped while offline, resent on connect).

  onChange(on: boolean, reason: string): void {
    this._pumpKnown = true;
    this._log("pump: " + (on ? "ON" : "OFF") + " (" + reason + ")");
    this.pub.pump(on);
    if (this._pump) this.pub.pumpAttributes(this._pump.attributes());
  }

  onRefused(message: string): void {
    this._log("pump: refused: " + message);
    this.pub.error("pump", message);
    // The attributes count refusals and name the last one.
    if (this._pump) this.pub.pumpAttributes(this._pump.attributes());
  }

  onInterlock(name: string, active: boolean): void {
    var locks = this._cfg.pump ? this._cfg.pump.interlocks : [];
    for (var i = 0; i < locks.length; i++) {
      if (locks[i].name !== name) continue;
      this._locks[i] = active ? 1 : 0;
      this.pub.interlock(i, active);
    }
  }

  _onConnect(sessionPresent: boolean): void {
    this._log("mqtt: connected" + (sessionPresent ? " (session present)" : ""));
    var pub = this.pub;
    pub.online();
    var pump = this._pump;
    if (pump) {
      pump.linkUp();
      if (this._pumpKnown) {
        pub.pump(pump.on);
        pub.pumpAttributes(pump.attributes());
      }
      for (var i = 0; i < this._locks.length; i++) if (this._locks[i] >= 0) pub.interlock(i, this._locks[i] === 1);
    }
    for (var s = 0; s < this._slots.length; s++) this._slots[s]._connected();
    this.discovery.start();
  }

  _onClose(reason: string): void {
    if (this._pump) this._pump.linkDown();
    this.discovery.stop();
    this._log("mqtt: closed (" + reason + ")");
  }

  _onMessage(topic: string, payload: string, retained: boolean, _qos: number, _dup: boolean): void {
    if (topic === this.pub.pumpSetTopic) {
      if (this._pump) this._pump.command(payload, retained);
    } else if (topic === this.pub.haStatusTopic) {
      this.discovery.haStatus(payload);
    }
  }

  _onError(message: string): void {
    this._log("mqtt: " + message);
  }
}
