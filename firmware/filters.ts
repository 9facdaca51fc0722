/*
 * The filter chains between a sensor driver and the publisher, one per quantity of each sensor:
 *   scale to the published unit -> offset -> moving average over N -> round to decimals
 *   -> publish if it moved >= delta since the last publish, or the heartbeat is due, or it is the first.
 * push(q, value) takes one driver value of quantity q and returns the number to publish now, or null for
 * "nothing now". Anything that is not a finite number (undefined, NaN, Infinity, a string) returns null and
 * leaves the chain untouched: it neither enters the average nor resets the heartbeat. push(RESEND) forgets
 * the last published values, so the next valid reading of each quantity goes out (after a reconnect).
 *
 * Quantities q (the publisher's QT, QH, QP): 0 temperature, 1 humidity, 2 pressure. Units: the chain takes
 * what the driver gives (Sample: degC, %RH, Pa) and returns published units (degC, %RH, hPa): pressure is
 * divided by 100. Offsets and deltas are in published units, as in config.json (SensorConfig). A quantity
 * the part lacks (BMP280 humidity, DHT22 pressure) is simply never in its samples: push gets undefined.
 *
 *   var f = createSensorFilters(sensorConfig, clock);
 *   var t = f.push(0, sample.temperature);   // number or null
 *   if (t !== null) publish(topic, String(t));
 *   f.push(RESEND);                          // after a reconnect
 *
 * Memory (ARCHITECTURE.md "Memory"; measured with bench/mem/sensors.ts): the chains of one sensor are one
 * plain object (a class would cost ~10 JsVars more: constructor and prototype) with one method, push, the module
 * function below (one copy on the device whatever the number of sensors; resending is a case of it rather
 * than a second function), and every number of the three chains sits in one Float64Array (a property
 * holding a float costs 2 JsVars, 8 bytes of a typed array 2/3 of one), the average windows too when
 * average > 1. push() allocates nothing.
 */
import type { Clock } from "./types";
import type { SensorConfig } from "./config";

/** push(RESEND): forget the last published values. */
export const RESEND = -1;
/** q of pressure: the chain that divides by 100 (Pa -> hPa). */
const Q_PRESSURE = 2;
/**
 * Layout of SensorFilters._s: [heartbeat ms, then per quantity q at 1 + q * PER_Q the fields below, then,
 * when average > 1, per quantity q at WINDOWS + q * (average + 2): count, next index, the window].
 */
const PER_Q = 5;
const WINDOWS = 1 + 3 * PER_Q;
const OFFSET = 0;
const DELTA = 1;
/** 10^decimals */
const POW = 2;
/** Last published value; NaN = nothing published yet: every comparison with it fails, so the first value goes out. */
const SENT = 3;
const SENT_AT = 4;

/** The filter chains of one sensor (createSensorFilters). */
export interface SensorFilters {
  /**
   * Feed one reading of quantity q (0 temperature, 1 humidity, 2 pressure) in driver units; returns the
   * value to publish now (published units, rounded to the configured decimals, never -0) or null.
   * push(RESEND) forgets the last published values: the next valid reading of each quantity is published.
   */
  push(q: number, value?: any): number | null;
  /** Every number of the chains: see PER_Q and WINDOWS (its length tells the window length). */
  _s: Float64Array;
  _clock: Clock;
}

/** SensorFilters.push */
function filterPush(this: SensorFilters, q: number, value?: any): number | null {
  var s = this._s;
  var i; // declared before both loops: Espruino does not hoist var (the second loop would use a global i)
  if (q === RESEND) for (i = 0; i < 3; i++) s[1 + i * PER_Q + SENT] = NaN;
  if (typeof value !== "number" || value !== value || value === Infinity || value === -Infinity) return null;
  var b = 1 + q * PER_Q;
  var v = (q === Q_PRESSURE ? value / 100 : value) + s[b + OFFSET];
  // Window length: what the array holds after the chains, 3 windows of n + 2 (0 when average is 1).
  var n = (s.length - WINDOWS) / 3 - 2;
  if (n > 1) {
    // This quantity's window: count, next index, then n values.
    var k = WINDOWS + q * (n + 2);
    s[k + 2 + s[k + 1]] = v;
    s[k + 1] = (s[k + 1] + 1) % n;
    if (s[k] < n) s[k]++;
    var sum = 0;
    for (i = 0; i < s[k]; i++) sum += s[k + 2 + i];
    v = sum / s[k];
  }
  v = Math.round(v * s[b + POW]) / s[b + POW];
  if (v === 0) v = 0; // no "-0"
  var now = this._clock.now();
  // 1e-9: 20.4 - 20.1 is 0.29999... in binary and must count as a 0.3 step.
  if (Math.abs(v - s[b + SENT]) < s[b + DELTA] - 1e-9 && !(s[0] > 0 && now - s[b + SENT_AT] >= s[0])) return null;
  s[b + SENT] = v;
  s[b + SENT_AT] = now;
  return v;
}

/**
 * The chains of one sensor from its SensorConfig (offset, delta, decimals per quantity; average and
 * heartbeatSeconds shared). Nothing of the config object is kept.
 */
export function createSensorFilters(config: SensorConfig, clock: Clock): SensorFilters {
  var n = config.average > 1 ? config.average : 1;
  var s = new Float64Array(n > 1 ? WINDOWS + 3 * (n + 2) : WINDOWS);
  s[0] = config.heartbeatSeconds * 1000;
  var keys = ["temperature", "humidity", "pressure"] as const;
  for (var q = 0; q < 3; q++) {
    var b = 1 + q * PER_Q;
    s[b + OFFSET] = config.offset[keys[q]];
    s[b + DELTA] = config.delta[keys[q]];
    s[b + POW] = Math.pow(10, config.decimals[keys[q]]);
    s[b + SENT] = NaN;
  }
  return { push: filterPush, _s: s, _clock: clock };
}
