/*
 * The filter chain between a sensor driver and the publisher, one chain per quantity of each sensor:
 *   scale to the published unit -> offset -> moving average over N -> round to decimals
 *   -> publish if it moved >= delta since the last publish, or the heartbeat is due, or it is the first.
 * push() takes one driver value and returns the number to publish now, or null for "nothing now".
 * Anything that is not a finite number (undefined, NaN, Infinity, a string) returns null and leaves the
 * chain untouched: it neither enters the average nor resets the heartbeat.
 *
 * Units: the chain takes what the driver gives (Sample: degC, %RH, Pa) and returns published units
 * (degC, %RH, hPa): the pressure chain divides by 100. Offsets and deltas are in published units, as in
 * config.json (SensorConfig).
 *
 * Memory: one Float32Array ring per quantity, allocated once; push() allocates nothing.
 *
 *   var f = new SensorFilters(sensorConfig, clock);
 *   var t = f.temperature.push(sample.temperature);   // number or null
 *   if (t !== null) publish(topic, String(t));
 */
import type { Clock } from "./types";
import type { SensorConfig } from "./config";

/** Quantities each part measures (firmware/sensors): what SensorFilters builds chains for. */
function hasHumidity(type: string): boolean {
  return type !== "bmp280";
}
function hasPressure(type: string): boolean {
  return type !== "dht22";
}

export class QuantityFilter {
  private _scale: number;
  private _offset: number;
  private _delta: number;
  private _heartbeatMs: number;
  private _pow: number;
  private _clock: Clock;
  private _ring: Float32Array;
  private _count: number;
  private _next: number;
  private _sent: number;
  private _sentAt: number;

  /**
   * @param scale driver unit -> published unit (1, or 0.01 for Pa -> hPa)
   * @param offset added after scaling, published units
   * @param average window length 1..16 (1 = no averaging)
   * @param delta publish when |value - last published| >= delta; 0 = every reading
   * @param heartbeatSeconds publish anyway when the last publish is this old; 0 = never
   * @param decimals 0..3 digits after the point
   */
  constructor(scale: number, offset: number, average: number, delta: number, heartbeatSeconds: number, decimals: number, clock: Clock) {
    this._scale = scale;
    this._offset = offset;
    this._delta = delta;
    this._heartbeatMs = heartbeatSeconds * 1000;
    this._pow = Math.pow(10, decimals);
    this._clock = clock;
    this._ring = new Float32Array(average >= 1 ? average : 1);
    this._count = 0;
    this._next = 0;
    // NaN = nothing published yet: every comparison with it fails, so the first value goes out.
    this._sent = NaN;
    this._sentAt = 0;
  }

  /** Feed one reading in driver units; returns the value to publish now (published units, rounded) or null. */
  push(value: any): number | null {
    if (typeof value !== "number" || value !== value || value === Infinity || value === -Infinity) return null;
    var ring = this._ring;
    ring[this._next] = value * this._scale + this._offset;
    this._next = (this._next + 1) % ring.length;
    if (this._count < ring.length) this._count++;
    var sum = 0;
    for (var i = 0; i < this._count; i++) sum += ring[i];
    var v = Math.round((sum / this._count) * this._pow) / this._pow;
    if (v === 0) v = 0; // no "-0"
    var now = this._clock.now();
    // 1e-9: 20.4 - 20.1 is 0.29999... in binary and must count as a 0.3 step.
    if (Math.abs(v - this._sent) < this._delta - 1e-9 && !(this._heartbeatMs > 0 && now - this._sentAt >= this._heartbeatMs)) return null;
    this._sent = v;
    this._sentAt = now;
    return v;
  }

  /** Forget the last published value: the next valid reading is published (e.g. after a reconnect). */
  resend(): void {
    this._sent = NaN;
  }

  /** Empty the average window and forget the last published value. */
  reset(): void {
    this._count = 0;
    this._next = 0;
    this._sent = NaN;
  }
}

/**
 * The chains of one sensor, built from its SensorConfig: temperature always, humidity unless BMP280,
 * pressure unless DHT22 (null when the part lacks the quantity).
 */
export class SensorFilters {
  temperature: QuantityFilter;
  humidity: QuantityFilter | null;
  pressure: QuantityFilter | null;

  constructor(config: SensorConfig, clock: Clock) {
    var c = config;
    this.temperature = new QuantityFilter(1, c.offset.temperature, c.average, c.delta.temperature, c.heartbeatSeconds, c.decimals.temperature, clock);
    this.humidity = hasHumidity(c.type) ? new QuantityFilter(1, c.offset.humidity, c.average, c.delta.humidity, c.heartbeatSeconds, c.decimals.humidity, clock) : null;
    this.pressure = hasPressure(c.type) ? new QuantityFilter(0.01, c.offset.pressure, c.average, c.delta.pressure, c.heartbeatSeconds, c.decimals.pressure, clock) : null;
  }

  /** resend() on every chain. */
  resend(): void {
    this.temperature.resend();
    if (this.humidity) this.humidity.resend();
    if (this.pressure) this.pressure.resend();
  }
}
