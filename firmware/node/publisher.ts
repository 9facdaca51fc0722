/*
 * The publisher: owns the node's topics and payloads (see README "Topics"). Every topic string is built
 * once here, at boot; a publish then only formats its payload (a number, a word, or a JSON string made in
 * one concatenation) and hands it to the MQTT client. Nothing is published while the link is down: the
 * node republishes its retained state on every connect instead of queueing stale values.
 *
 *   <prefix>/<id>/status                      online / offline, retained, QoS 1 (offline is also the Will)
 *   <prefix>/<id>[/<sensor>]/<quantity>      temperature degC, humidity %RH, pressure hPa; retained
 *   <prefix>/<id>/error                       {"source":..,"message":..}, not retained
 *   <prefix>/<id>/pump, /pump/attributes      ON / OFF and the pump's JSON, retained, QoS 1
 *   <prefix>/<id>/pump/set                    commands (subscribed by the node)
 *   <prefix>/<id>/interlock/<name>            ON / OFF, retained, QoS 1
 * The sensor level is there only when config.json lists several sensors.
 */
import type { Config } from "../config";
import { T_STATUS, T_ERROR, T_PUMP, T_PUMP_SET, T_PUMP_ATTRIBUTES, T_INTERLOCK, HA_STATUS, ONLINE, OFFLINE, ON, OFF, Q_TEMPERATURE, Q_HUMIDITY, Q_PRESSURE } from "../constants";

/** The part of the MQTT client (firmware/mqtt/client.ts) the publisher and discovery use. */
export interface MqttPort {
  connected: boolean;
  /** true when sent or queued; false when dropped. Throws on a caller mistake (bad topic, qos). */
  publish(topic: string, payload: string, qos: number, retain: boolean): boolean;
  subscribe(topic: string, qos: number): void;
}

/* Quantity indices: readings are addressed as (sensor index, quantity index). */
export const QT = 0;
export const QH = 1;
export const QP = 2;

/** "temperature", "humidity", "pressure" for QT, QH, QP. */
export function quantityName(q: number): string {
  return q === QT ? Q_TEMPERATURE : q === QH ? Q_HUMIDITY : Q_PRESSURE;
}

/** Whether a part measures a quantity: BMP280 has no humidity, DHT22 no pressure. */
export function hasQuantity(type: string, q: number): boolean {
  return q === QT || (q === QH ? type !== "bmp280" : type !== "dht22");
}

/** A rounded reading as text: `decimals` digits after the point, never "-0". */
export function formatNumber(value: number, decimals: number): string {
  var s = value.toFixed(decimals);
  // -0.04 rounds to "-0.0": a sign on zero reads as a wrong value on a dashboard.
  if (s.charAt(0) === "-" && parseFloat(s) === 0) s = s.substr(1);
  return s;
}

export class Publisher {
  /** The MQTT client, set once it exists (main.ts); null means "offline". */
  client: MqttPort | null;
  /** <prefix>/<id>/ (with the slash): base of every node topic. */
  base: string;
  statusTopic: string;
  errorTopic: string;
  pumpTopic: string;
  pumpSetTopic: string;
  pumpAttributesTopic: string;
  /** <discovery prefix>/status: Home Assistant's birth and last-will messages. */
  haStatusTopic: string;
  /** One per configured interlock, same order. */
  interlockTopics: string[];
  /** Three per sensor (QT, QH, QP); "" where the part lacks the quantity. */
  readingTopics: string[];

  constructor(config: Config) {
    this.client = null;
    var base = config.device.prefix + "/" + config.device.id + "/";
    this.base = base;
    this.statusTopic = base + T_STATUS;
    this.errorTopic = base + T_ERROR;
    this.pumpTopic = base + T_PUMP;
    this.pumpSetTopic = base + T_PUMP_SET;
    this.pumpAttributesTopic = base + T_PUMP_ATTRIBUTES;
    this.haStatusTopic = config.homeassistant.prefix + "/" + HA_STATUS;
    this.interlockTopics = [];
    var locks = config.pump ? config.pump.interlocks : [];
    for (var i = 0; i < locks.length; i++) this.interlockTopics.push(base + T_INTERLOCK + "/" + locks[i].name);
    this.readingTopics = [];
    var sensors = config.sensors;
    for (var s = 0; s < sensors.length; s++) {
      var level = sensors.length > 1 ? base + sensors[s].name + "/" : base;
      for (var q = 0; q < 3; q++) this.readingTopics.push(hasQuantity(sensors[s].type, q) ? level + quantityName(q) : "");
    }
  }

  /** Publish when connected; false when offline or dropped by the client. */
  send(topic: string, payload: string, qos: number, retain: boolean): boolean {
    var c = this.client;
    if (!c || !c.connected) return false;
    return c.publish(topic, payload, qos, retain);
  }

  /** Retained "online" on the status topic (after every connect). */
  online(): boolean {
    return this.send(this.statusTopic, ONLINE, 1, true);
  }

  /** Retained "offline" on the status topic (graceful shutdown; the Will covers the rest). */
  offline(): boolean {
    return this.send(this.statusTopic, OFFLINE, 1, true);
  }

  /** One reading (already filtered and rounded) of sensor index `sensor`, quantity QT/QH/QP. Retained. */
  reading(sensor: number, q: number, value: number, decimals: number): boolean {
    var topic = this.readingTopics[sensor * 3 + q];
    if (!topic) return false;
    return this.send(topic, formatNumber(value, decimals), 0, true);
  }

  /** {"source":..,"message":..} on the error topic, not retained. */
  error(source: string, message: string): boolean {
    return this.send(this.errorTopic, "{\"source\":" + JSON.stringify(source) + ",\"message\":" + JSON.stringify(message) + "}", 0, false);
  }

  /** ON/OFF on the pump topic, retained. */
  pump(on: boolean): boolean {
    return this.send(this.pumpTopic, on ? ON : OFF, 1, true);
  }

  /** The pump's attributes JSON (Pump.attributes()), retained. */
  pumpAttributes(json: string): boolean {
    return this.send(this.pumpAttributesTopic, json, 1, true);
  }

  /** ON (active: the pump must stay off) / OFF for interlock index i, retained. */
  interlock(i: number, active: boolean): boolean {
    return this.send(this.interlockTopics[i], active ? ON : OFF, 1, true);
  }
}
