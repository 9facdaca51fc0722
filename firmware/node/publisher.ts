/*
 * The publisher's vocabulary: the node's topics and payload formats (see README "Topics"). The node
 * (node.ts) publishes; this file says where and in what form.
 *
 *   <prefix>/<id>/status                      online / offline, retained, QoS 1 (offline is also the Will)
 *   <prefix>/<id>[/<sensor>]/<quantity>      temperature degC, humidity %RH, pressure hPa; retained
 *   <prefix>/<id>/error                       {"source":..,"message":..}, not retained
 *   <prefix>/<id>/pump, /pump/attributes      ON / OFF and the pump's JSON, retained, QoS 0
 *   <prefix>/<id>/pump/set                    commands (subscribed by the node, QoS 1)
 *   <prefix>/<id>/interlock/<name>            ON / OFF, retained, QoS 0
 * The sensor level is there only when config.json lists several sensors.
 *
 * Memory: topics are not kept. The node keeps its base "<prefix>/<id>/" and concatenates the suffix
 * (constants.ts) when it publishes: a short-lived string per publish instead of a dozen topic strings
 * and their property names held for ever (about 60 JsVars with two interlocks).
 */
import type { Config } from "../config";

/** The part of the MQTT client (firmware/mqtt/client.ts) the node publishes through. */
export interface MqttPort {
  connected: boolean;
  /** true when sent or queued; false when dropped. Throws on a caller mistake (bad topic, qos). */
  publish(topic: string, payload: string, qos: number, retain: boolean): boolean;
  subscribe(topic: string, qos: number): void;
}

/*
 * Quantity indices: readings are addressed as (sensor, quantity index). A quantity's name (constants.ts
 * Q_*, the last topic level) is picked where it is used, node.ts and discovery.ts, by the same ternary:
 * a function for it would be kept for ever (5 JsVars), and terser inlines one called twice as a function
 * expression created at every call.
 */
export const QT = 0;
export const QH = 1;
export const QP = 2;

/** "<prefix>/<id>/": the base of every node topic (with the slash). */
export function nodeBase(config: Config): string {
  return config.device.prefix + "/" + config.device.id + "/";
}

/**
 * The sensor slot's _m (node.ts), read by discovery too: bits 0-1 node.ts's state flags, then the
 * quantities a part measures (bit M_QM + q for quantity index q), then the decimals (2 bits per quantity
 * from bit M_DEC + 2q). One number instead of three fields, and one JsVar as long as it stays below
 * 1024 (Espruino keeps an int from -1024 to 1023 inside the property itself, a larger one in a JsVar of
 * its own): it does unless pressure has 2 or 3 decimals. Nothing more goes in for that reason.
 */
export const M_QM = 2;
export const M_DEC = 5;

/**
 * Quantities a part measures, one bit per quantity index (1 << QT...): BMP280 has no humidity, DHT22 no
 * pressure.
 */
export function quantityMask(type: string): number {
  return type === "bmp280" ? 5 : type === "dht22" ? 3 : 7;
}

/**
 * A reading as text, rounded to `decimals` digits after the point (halves away from zero), never "-0"
 * (a sign on zero reads as a wrong value on a dashboard). The same text as Number.toFixed, without
 * calling it: the first Number method the firmware calls brings Espruino's Number class into RAM for
 * good (8 JsVars). (Espruino 2v29's toFixed also truncates where it should round, 21.5 -> "21" at 0
 * decimals; the filters hand over values already rounded, where the two agree.) No local var: this is
 * inlined, and an inlined var can land after its use, where Espruino (no var hoisting) misses it; hence
 * the repeated Math.round(|value| * 10^decimals), the value in units of the last digit.
 */
export function formatNumber(value: number, decimals: number): string {
  return (
    (value < 0 && Math.round(-value * Math.pow(10, decimals)) ? "-" : "") +
    Math.floor(Math.round(Math.abs(value) * Math.pow(10, decimals)) / Math.pow(10, decimals)) +
    // The fraction's digits, zero-padded: (units % 10^decimals) + 10^decimals without its leading "1".
    (decimals ? "." + String((Math.round(Math.abs(value) * Math.pow(10, decimals)) % Math.pow(10, decimals)) + Math.pow(10, decimals)).substr(1) : "")
  );
}
