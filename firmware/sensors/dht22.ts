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
 * gets the last reading again (a reused object, delivered later) if that read succeeded, else an error;
 * the bus is not touched. A failed attempt is retried (options.retries, default 1) 2 s later, so one
 * sample() may take about 2 s per retry.
 *
 * Options:
 * | field   | meaning                                                   | default |
 * | ------- | --------------------------------------------------------- | ------- |
 * | pin     | data pin number (GPIO)                                    | required|
 * | pins    | DHTPins: the Espruino calls (board wiring passes globals) | required|
 * | clock   | Clock                                                     | required|
 * | retries | extra attempts after a failed one, 0..3                  | 1       |
 * configure({ retries }) changes the retry count.
 *
 * Sample:
 * | property    | unit | range checked (AM2302 table 1) |
 * | ----------- | ---- | ------------------------------ |
 * | temperature | degC | -40 .. 80                      |
 * | humidity    | %RH  | 0 .. 100                       |
 *
 * Not supported: the DHT11 (other frame layout), reading faster than every 2 s.
 */
import type { Clock, Sample, SampleCallback, Sensor } from "../types";
import { failLater } from "./later";

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
/** Falling-to-falling periods in seconds: above RESPONSE_S is the response, above BIT_S a 1. */
const RESPONSE_S = 0.00014;
const BIT_S = 0.000098;
const MAX_RETRIES = 3;

export class DHT22 implements Sensor {
  /** "DHT22 on pin 4": prefix of every error message. */
  readonly name: string;
  private _pin: number;
  private _pins: DHTPins;
  private _clock: Clock;
  private _retries: number;
  private _frame: Uint8Array;
  private _watchOptions: { repeat: boolean; edge: string };
  private _onEdge: (e: WatchEvent) => void;
  private _onRelease: () => void;
  private _onFrame: () => void;
  private _onAttempt: () => void;
  private _onDone: () => void;
  private _cb: SampleCallback | null;
  private _err: Error | null;
  private _last: Sample | null;
  private _lastStart: number;
  private _attempt: number;
  private _watch: any;
  private _timer: any;
  private _edges: number;
  private _bits: number;
  private _prev: number;
  private _closed: boolean;

  constructor(options: DHT22Options) {
    this.name = "DHT22 on pin " + options.pin;
    if (!options.pins || !options.clock || typeof options.pin !== "number" || options.pin < 0) throw new Error(this.name + ": options.pin, options.pins and options.clock are required");
    this._pin = options.pin;
    this._pins = options.pins;
    this._clock = options.clock;
    this._retries = 1;
    this._frame = new Uint8Array(5);
    this._watchOptions = { repeat: true, edge: "falling" };
    this._onEdge = this._edge.bind(this);
    this._onRelease = this._release.bind(this);
    this._onFrame = this._decode.bind(this);
    this._onAttempt = this._start.bind(this);
    this._onDone = this._done.bind(this);
    this._cb = null;
    this._err = null;
    this._last = null;
    this._lastStart = -PERIOD_MS;
    this._attempt = 0;
    this._watch = null;
    this._timer = null;
    this._edges = 0;
    this._bits = -1;
    this._prev = 0;
    this._closed = false;
    this.configure(options);
    // Idle line: released, pulled up (the module has its own pull-up on most boards).
    this._pins.pinMode(this._pin, "input_pullup");
  }

  /** configure({ retries: 0..3 }); absent fields are left alone. Throws naming the field. */
  configure(options: { retries?: number }): void {
    var r = options.retries;
    if (r === undefined) return;
    if (typeof r !== "number" || r !== Math.floor(r) || r < 0 || r > MAX_RETRIES) throw new Error(this.name + ": retries must be a whole number between 0 and " + MAX_RETRIES + ", got " + r);
    this._retries = r;
  }

  /**
   * Read temperature and humidity; callback(error, sample) comes later, exactly once (about 30 ms, or
   * 2 s more per retry). Within 2 s of the last start pulse: the last good sample again, or an error.
   */
  sample(callback: SampleCallback): void {
    if (this._closed) return failLater(this._clock, callback, new Error(this.name + ": closed"));
    if (this._cb) return failLater(this._clock, callback, new Error(this.name + ": a read is already in progress"));
    this._cb = callback;
    this._err = null;
    if (this._clock.now() - this._lastStart < PERIOD_MS) {
      if (!this._last) this._err = new Error(this.name + ": the last read failed less than 2 s ago (at most one read per 2 s)");
      this._timer = this._clock.setTimeout(this._onDone, 0);
      return;
    }
    this._attempt = 0;
    this._start();
  }

  /** Stop the watch and timers; a pending callback gets Error("... closed") before this returns. Twice is harmless. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._stop();
    this._pins.pinMode(this._pin, "input_pullup");
    if (this._cb) {
      this._err = new Error(this.name + ": closed");
      this._done();
    }
  }

  private _start(): void {
    this._timer = null;
    this._lastStart = this._clock.now();
    this._last = null;
    this._edges = 0;
    this._bits = -1;
    for (var i = 0; i < 5; i++) this._frame[i] = 0;
    try {
      this._pins.digitalWrite(this._pin, 0);
      this._pins.pinMode(this._pin, "output");
      this._watch = this._pins.setWatch(this._onEdge, this._pin, this._watchOptions);
    } catch (e: any) {
      this._stop();
      this._err = new Error(this.name + ": cannot drive the pin: " + (e && e.message ? e.message : String(e)));
      this._timer = this._clock.setTimeout(this._onDone, 0);
      return;
    }
    this._timer = this._clock.setTimeout(this._onRelease, START_MS);
  }

  private _release(): void {
    // Input with pull-up: the line goes high and the sensor answers (AM2302 section 7.1).
    this._pins.pinMode(this._pin, "input_pullup");
    this._timer = this._clock.setTimeout(this._onFrame, FRAME_MS);
  }

  private _edge(e: WatchEvent): void {
    var t = e.time;
    var period = t - this._prev;
    this._prev = t;
    if (++this._edges === 1) return;
    if (period > RESPONSE_S) {
      // The response (80 us low + 80 us high) or anything slower before it: bits start at the next edge.
      this._bits = 0;
      return;
    }
    if (this._bits < 0) return;
    if (this._bits < 40) {
      var i = this._bits >> 3;
      this._frame[i] = (this._frame[i] << 1) | (period > BIT_S ? 1 : 0);
    }
    this._bits++;
  }

  private _decode(): void {
    this._timer = null;
    this._stop();
    var f = this._frame;
    var err: string | null = null;
    if (this._edges === 0) err = "no response";
    else if (this._bits < 0) err = "no response header (" + this._edges + " edges)";
    else if (this._bits < 40) err = "short frame (" + this._bits + " of 40 bits)";
    else if (this._bits > 40) err = "noise on the line (" + this._bits + " bits)";
    else if (((f[0] + f[1] + f[2] + f[3]) & 0xff) !== f[4]) err = "bad checksum";
    if (!err) {
      var h = ((f[0] << 8) | f[1]) / 10;
      var t = (((f[2] & 0x7f) << 8) | f[3]) / 10;
      if (f[2] & 0x80) t = -t;
      if (!(h >= 0 && h <= 100)) err = "humidity " + h + " %RH is outside the part's range 0..100 %RH";
      else if (!(t >= -40 && t <= 80)) err = "temperature " + t + " degC is outside the part's range -40..80 degC";
      else this._last = { temperature: t, humidity: h };
    }
    if (err) {
      if (this._attempt < this._retries) {
        this._attempt++;
        this._timer = this._clock.setTimeout(this._onAttempt, PERIOD_MS);
        return;
      }
      this._err = new Error(this.name + ": " + err + (this._attempt ? " (after " + (this._attempt + 1) + " attempts)" : ""));
    }
    this._done();
  }

  private _done(): void {
    this._timer = null;
    var cb = this._cb!;
    var err = this._err;
    this._cb = null;
    this._err = null;
    if (err) cb(err);
    else cb(null, this._last!);
  }

  private _stop(): void {
    if (this._watch !== null) {
      try {
        this._pins.clearWatch(this._watch);
      } catch (e) {
        // Already gone (e.g. cleared by a reset): nothing left to release.
      }
      this._watch = null;
    }
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
  }
}
