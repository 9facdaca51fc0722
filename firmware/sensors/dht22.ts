/*
 * DHT22 / AM2302 driver: temperature and humidity over one data pin, decoded from edge timings.
 * Aosong AM2302 data sheet (the DHT22 is the same part), sections 5 and 7 ("single-bus communication"):
 *   https://cdn-shop.adafruit.com/datasheets/Digital+humidity+and+temperature+sensor+AM2302.pdf
 * Protocol: the host holds the line low >= 1 ms (T_be, typ. 1 ms) and releases it; the sensor answers
 * 80 us low + 80 us high, then sends 40 bits, each 50 us low followed by ~26 us high (0) or ~70 us high
 * (1): humidity x10 (16 bits), temperature x10 (15 bits + sign bit 15), checksum = low byte of the sum
 * of the first four bytes.
 *
 * Decoding: a falling-edge watch; the time between two falling edges is one bit (76 us for a 0, 120 us
 * for a 1; threshold 98 us) and the 160 us response period marks the start. This needs only falling
 * edges (half the events of "both") and does not depend on what lastTime means for a filtered watch.
 *
 * Rate: the datasheet asks for >= 2 s between readings. A sample() within 2 s of the last start pulse
 * gets the last reading again (delivered later) if that read succeeded; if it failed, the new read starts
 * as soon as the 2 s are over (so a node reading every 2 s sees the real failure each time, not a
 * rate-limit message in between). A failed attempt is retried (options.retries, default 1) 2 s later, so
 * one sample() may take about 2 s per retry.
 *
 *   var s = createDHT22({ pin: 4, pins: dhtPins(), clock: clock });
 *   s.sample(function (err, v) { ... v.temperature degC, v.humidity %RH ... });
 *
 * Options:
 * | field   | meaning                                                   | default |
 * | ------- | --------------------------------------------------------- | ------- |
 * | pin     | data pin number (GPIO)                                    | required|
 * | pins    | DHTPins: the Espruino calls (board wiring passes globals) | required|
 * | clock   | Clock                                                     | required|
 * | retries | extra attempts after a failed one, 0..3                  | 1       |
 * configureDHT22(sensor, { retries }) changes the retry count.
 *
 * Sample:
 * | property    | unit | range checked (AM2302 table 1) |
 * | ----------- | ---- | ------------------------------ |
 * | temperature | degC | -40 .. 80                      |
 * | humidity    | %RH  | 0 .. 100                       |
 *
 * Not supported: the DHT11 (other frame layout), reading faster than every 2 s.
 *
 * Memory (ARCHITECTURE.md "Memory"; measured with bench/mem/sensors-dht22.ts): every function object
 * lives as long as the firmware, 5 JsVars + 1 per parameter, a bound copy 5 more, and a closure made
 * inside a function keeps that function's whole scope. So, as for the Bosch driver (bosch.ts):
 * - the sensor is a plain object; its sample is the module function dhtSample, the driver's only
 *   function object, bound to its sensor once: called with a callback it starts a read, with a watch
 *   event it decodes an edge, with nothing it is the driver's timer (next step in _next), with false it
 *   closes (close is closeSensor of ./close.ts, shared by every driver, which calls sample(false));
 * - createDHT22 and configureDHT22 run once and leave nothing behind;
 * - the 40 bits go into two numbers, not a buffer; the last good reading is kept as that frame.
 */
import type { Clock, SampleCallback, Sensor } from "../types";
import { closeSensor } from "./close";

/** One setWatch event, as Espruino gives it: times in seconds. */
export interface WatchEvent {
  state: boolean;
  time: number;
  lastTime?: number;
}

/**
 * The Espruino calls the driver needs; board wiring passes an object whose members call the globals of
 * the same name, the simulator and tests pass their own.
 */
export interface DHTPins {
  pinMode(pin: number, mode: string): void;
  digitalWrite(pin: number, level: number): void;
  setWatch(callback: (e: WatchEvent) => void, pin: number, options: { repeat: boolean; edge: string }): any;
  clearWatch(id: any): void;
}

export interface DHT22Options {
  pin: number;
  pins: DHTPins;
  clock: Clock;
  retries?: number;
}

/** Start pulse: >= 1 ms low (AM2302 section 7.1: T_be 0.8..20 ms); 2 ms leaves margin for timer jitter. */
const START_MS = 2;
/** The frame lasts at most 0.16 + 40 * 0.12 ms ~ 5 ms; wait this long after release before decoding. */
const FRAME_MS = 25;
/** Datasheet: at least 2 s between two readings. */
const PERIOD_MS = 2000;
/** Falling-to-falling periods in microseconds: above RESPONSE_US is the response, above BIT_US a 1. */
const RESPONSE_US = 140;
const BIT_US = 98;
const MAX_RETRIES = 3;

// What the driver's timer does next (DHT22._next).
const T_START = 1; // start pulse (first attempt or a retry)
const T_RELEASE = 2; // end of the start pulse: release the line
const T_DECODE = 3; // the frame is over: decode it
const T_DELIVER = 4; // call back with _err or the last good frame
const CLOSED = 5; // close() was called: a pending callback gets _err ("closed"), then nothing more

/** A DHT22 (createDHT22). `name` ("DHT22 on pin 4") prefixes every error message. */
export interface DHT22 extends Sensor {
  readonly name: string;
  /**
   * Read temperature and humidity; callback(error, sample) comes later, exactly once (about 30 ms, or
   * 2 s more per retry). Within 2 s of the last start pulse: the last good reading again, or (the last
   * read failed) a read as soon as the 2 s are over.
   * Bound to its sensor; the pin watch (WatchEvent) and the driver's timer (no argument) call it too,
   * and close() calls it with false.
   */
  sample(callback?: SampleCallback | WatchEvent | false): void;
  /**
   * Stop the watch and timers; a pending callback gets Error("... closed") before this returns. Twice is
   * harmless. The same as sample(false).
   */
  close(): void;
  /** The rest is the driver's state, mangled on the device: nothing outside this file reads it. */
  _pin: number;
  _pins: DHTPins;
  _clock: Clock;
  /** Extra attempts after a failed one (configureDHT22), and the attempt under way (0 = first). */
  _retries: number;
  _attempt: number;
  _cb: SampleCallback | undefined;
  /** Error text to deliver; undefined for none. */
  _err: string | undefined;
  /** T_START..T_DELIVER, or CLOSED. */
  _next: number;
  _watch: any;
  _timer: any;
  /** Falling edges seen, bits decoded (-1 before the response), time of the previous edge (s). */
  _edges: number;
  _bits: number;
  _prev: number;
  /** The frame: its first 32 bits (humidity, temperature), then the checksum byte. */
  _word: number;
  _sum: number;
  /** clock.now() of the last start pulse, and 1 if that read gave a valid frame (kept in _word), else 0. */
  _lastStart: number;
  _ok: number;
}

/**
 * DHT22.sample: the driver's one handler (see the file header). `this` is the sensor: sample is bound
 * to it by createDHT22.
 */
function dhtSample(this: DHT22, arg?: SampleCallback | WatchEvent | false): void {
  var s = this;
  var clock = s._clock;
  if (arg === false) {
    // close()
    if (s._next === CLOSED) return;
    if (s._timer !== undefined) clock.clearTimeout(s._timer);
    s._timer = undefined;
    s._next = CLOSED;
    if (s._cb) {
      // Through the timer's path (CLOSED delivers like T_DELIVER): it clears the watch and calls back,
      // before close() returns; a sample() from that callback is refused.
      s._err = "closed";
      s.sample();
    }
    s._pins.pinMode(s._pin, "input_pullup");
    return;
  }
  if (typeof arg === "object") {
    // A falling edge: the period since the previous one is one bit, or the response.
    var us = (arg.time - s._prev) * 1e6;
    s._prev = arg.time;
    if (++s._edges === 1) return;
    // The response (80 us low + 80 us high) or anything slower before it: bits start at the next edge.
    if (us > RESPONSE_US) s._bits = 0;
    else if (s._bits >= 0) {
      if (s._bits < 32) s._word = (s._word << 1) | (us > BIT_US ? 1 : 0);
      else if (s._bits < 40) s._sum = ((s._sum << 1) | (us > BIT_US ? 1 : 0)) & 0xff;
      s._bits++;
    }
    return;
  }
  if (arg) {
    var callback = arg;
    var refusal = s._next === CLOSED ? "closed" : s._cb ? "a read is already in progress" : "";
    if (refusal) {
      // Refusals are rare: a closure for this one callback, later as the contract says.
      var e = new Error(s.name + ": " + refusal);
      clock.setTimeout(function () {
        callback(e);
      }, 0);
      return;
    }
    s._cb = callback;
    s._err = undefined;
    s._attempt = 0;
    s._next = T_START;
    var wait = s._lastStart + PERIOD_MS - clock.now();
    if (wait > 0) {
      if (s._ok) s._next = T_DELIVER;
      s._timer = clock.setTimeout(s.sample, s._ok ? 0 : wait);
      return;
    }
  }

  // The driver's timer (or a start): the next step of the read.
  var cb = s._cb;
  if (!cb) return;
  s._timer = undefined;
  var pins = s._pins;
  if (s._next === T_START) {
    s._lastStart = clock.now();
    s._ok = 0;
    s._edges = 0;
    s._bits = -1;
    s._word = 0;
    s._sum = 0;
    try {
      pins.digitalWrite(s._pin, 0);
      pins.pinMode(s._pin, "output");
      s._watch = pins.setWatch(s.sample, s._pin, { repeat: true, edge: "falling" });
      s._next = T_RELEASE;
      s._timer = clock.setTimeout(s.sample, START_MS);
      return;
    } catch (x: any) {
      s._err = "cannot drive the pin: " + (x && x.message ? x.message : String(x));
      s._next = T_DELIVER;
    }
  } else if (s._next === T_RELEASE) {
    // Input with pull-up: the line goes high and the sensor answers (AM2302 section 7.1).
    pins.pinMode(s._pin, "input_pullup");
    s._next = T_DECODE;
    s._timer = clock.setTimeout(s.sample, FRAME_MS);
    return;
  }
  // Decode, deliver or closed: the watch has no more to do.
  if (s._watch !== undefined) {
    try {
      pins.clearWatch(s._watch);
    } catch (x) {
      // Already gone (e.g. cleared by a reset): nothing left to release.
    }
    s._watch = undefined;
  }
  var w = s._word;
  var h = (w >>> 16) / 10;
  var t = ((w & 0x8000 ? -1 : 1) * (w & 0x7fff)) / 10;
  if (s._next === T_DECODE) {
    var err = "";
    if (s._edges === 0) err = "no response";
    else if (s._bits < 0) err = "no response header (" + s._edges + " edges)";
    else if (s._bits < 40) err = "short frame (" + s._bits + " of 40 bits)";
    else if (s._bits > 40) err = "noise on the line (" + s._bits + " bits)";
    else if ((((w >>> 24) + ((w >> 16) & 0xff) + ((w >> 8) & 0xff) + (w & 0xff)) & 0xff) !== s._sum) err = "bad checksum";
    else if (!(h >= 0 && h <= 100)) err = "humidity " + h + " %RH is outside the part's range 0..100 %RH";
    else if (!(t >= -40 && t <= 80)) err = "temperature " + t + " degC is outside the part's range -40..80 degC";
    else s._ok = 1;
    if (err && s._attempt < s._retries) {
      s._attempt++;
      s._next = T_START;
      s._timer = clock.setTimeout(s.sample, PERIOD_MS);
      return;
    }
    if (err) s._err = s._attempt ? err + " (after " + (s._attempt + 1) + " attempts)" : err;
  }
  s._cb = undefined;
  if (s._err) cb(new Error(s.name + ": " + s._err));
  else cb(null, { temperature: t, humidity: h });
}

/**
 * Throws "DHT22 on pin 4: options.pin, options.pins and options.clock are required" or a retries error;
 * holds nothing then. Leaves the line released (input with pull-up).
 */
export function createDHT22(options: DHT22Options): DHT22 {
  var name = "DHT22 on pin " + options.pin;
  if (!options.pins || !options.clock || typeof options.pin !== "number" || options.pin < 0) throw new Error(name + ": options.pin, options.pins and options.clock are required");
  var s: DHT22 = {
    name: name,
    sample: dhtSample,
    close: closeSensor,
    _pin: options.pin,
    _pins: options.pins,
    _clock: options.clock,
    _retries: 1,
    _attempt: 0,
    _cb: undefined,
    _err: undefined,
    _next: 0,
    _watch: undefined,
    _timer: undefined,
    _edges: 0,
    _bits: -1,
    _prev: 0,
    _word: 0,
    _sum: 0,
    _lastStart: -PERIOD_MS,
    _ok: 0
  };
  configureDHT22(s, options);
  // Bound once: the watch and the timer call s.sample as it is.
  s.sample = dhtSample.bind(s);
  // Idle line: released, pulled up (the module has its own pull-up on most boards).
  s._pins.pinMode(s._pin, "input_pullup");
  return s;
}

/** configureDHT22(sensor, { retries: 0..3 }); absent fields are left alone. Throws naming the field. */
export function configureDHT22(s: DHT22, options: { retries?: number }): void {
  var r = options.retries;
  if (r === undefined) return;
  if (typeof r !== "number" || r !== Math.floor(r) || r < 0 || r > MAX_RETRIES) throw new Error(s.name + ": retries must be a whole number between 0 and " + MAX_RETRIES + ", got " + r);
  s._retries = r;
}
