/*
 * Shared code of the Bosch BME280 and BMP280 drivers (bme280.ts, bmp280.ts): chip check, soft reset,
 * calibration readout, forced-mode measurement and the datasheets' double-precision compensation.
 *
 * Datasheets:
 *   BME280: Bosch Sensortec BST-BME280-DS002, revision 1.6 (09/2018),
 *     https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bme280-ds002.pdf
 *   BMP280: Bosch Sensortec BST-BMP280-DS001, revision 1.19+ (01/2018),
 *     https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
 * Registers go through a RegisterIO (firmware/types.ts), so one driver serves I2C, SPI and the simulator.
 *
 * Not supported: normal (free-running) mode, SPI 3-wire setup, the integer compensation variants (the
 * double ones of BME280 section 8.1 / BMP280 section 8.1 are exact in JavaScript's numbers and need no
 * 64-bit integers, which Espruino lacks).
 *
 * Options (constructor):
 * | field                   | meaning                                          | default |
 * | ----------------------- | ------------------------------------------------ | ------- |
 * | io                      | RegisterIO bound to the chip (board wiring)      | required|
 * | clock                   | Clock for the conversion wait                    | required|
 * | address                 | I2C address, only used in messages               | 0x76    |
 * | temperatureOversampling | 1, 2, 4, 8, 16                                   | 1       |
 * | pressureOversampling    | 0 (skip), 1, 2, 4, 8, 16                         | 1       |
 * | humidityOversampling    | 0 (skip), 1, 2, 4, 8, 16 (BME280 only)           | 1       |
 * | filter                  | IIR coefficient 0 (off), 2, 4, 8, 16             | 0       |
 * Defaults are the datasheet's "weather monitoring" setting (BME280 section 3.5.1): forced mode, x1, no filter.
 * configure() takes the same fields but io/clock/address.
 *
 * Sample (callback later, exactly once):
 * | property    | unit | range checked (operating range, BME280 table 1 / BMP280 table 2) |
 * | ----------- | ---- | ----------------------------------------------------------------- |
 * | temperature | degC | -40 .. 85                                                        |
 * | pressure    | Pa   | 30000 .. 110000 (absent when pressureOversampling is 0)          |
 * | humidity    | %RH  | 0 .. 100, BME280 only (absent when humidityOversampling is 0)    |
 */
import type { Clock, RegisterIO, Sample, SampleCallback, Sensor } from "../types";
import { failLater, hex } from "./later";

// Registers (BME280 section 5.3 table 18, BMP280 section 4.2 table 18), spelled as the datasheets do.
const REG_CALIB00 = 0x88; // calib00..calib25: dig_T1..dig_P9, then dig_H1 at 0xA1 (BME280)
const REG_ID = 0xd0;
const REG_RESET = 0xe0;
const REG_CALIB26 = 0xe1; // calib26..calib32: dig_H2..dig_H6 (BME280 table 16)
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3;
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;
const REG_PRESS_MSB = 0xf7; // press_msb..hum_lsb: one burst read (section 4 "Data readout")

/** Writing this to reset starts a power-on reset (BME280 5.4.2). */
const RESET_WORD = 0xb6;
/** status bit 3: conversion running; bit 0: NVM data being copied (BME280 5.4.4). */
const STATUS_MEASURING = 0x08;
const STATUS_IM_UPDATE = 0x01;
const MODE_FORCED = 0x01;
/** Reads of status after a soft reset before giving up on the NVM copy (t_startup is 2 ms, table 1). */
const RESET_POLLS = 50;
/** Extra waits of 2 ms when status still says measuring after the datasheet's maximum time. */
const LATE_POLLS = 2;
/** Value of a skipped or not yet converted measurement (BME280 section 4, "Data readout"). */
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;

export const CHIP_ID_BME280 = 0x60;
export const CHIP_ID_BMP280 = 0x58;

// Calibration words, one Int32Array (fewer JsVars than 18 properties). Index = position in the table.
export const T1 = 0; // 0x88/0x89 unsigned short
export const T2 = 1; // 0x8A/0x8B signed short
export const T3 = 2; // 0x8C/0x8D signed short
export const P1 = 3; // 0x8E/0x8F unsigned short
export const P2 = 4; // 0x90/0x91 signed, and so on to dig_P9 at 0x9E/0x9F
export const P3 = 5;
export const P4 = 6;
export const P5 = 7;
export const P6 = 8;
export const P7 = 9;
export const P8 = 10;
export const P9 = 11;
export const H1 = 12; // 0xA1 unsigned char
export const H2 = 13; // 0xE1/0xE2 signed short
export const H3 = 14; // 0xE3 unsigned char
export const H4 = 15; // 0xE4 / 0xE5[3:0] signed 12 bit
export const H5 = 16; // 0xE5[7:4] / 0xE6 signed 12 bit
export const H6 = 17; // 0xE7 signed char
export const CALIBRATION_WORDS = 18;

function s16(v: number): number {
  return v > 32767 ? v - 65536 : v;
}

/**
 * Decode the calibration blocks (BME280 table 16, BMP280 table 17) into cal.
 * @param a bytes from 0x88: 24 (BMP280) or 26 (BME280, holds dig_H1 at index 25)
 * @param h bytes from 0xE1 (7, BME280) or null
 */
export function decodeCalibration(a: Uint8Array, h: Uint8Array | null, cal: Int32Array): void {
  for (var i = 0; i < 12; i++) {
    var w = a[2 * i] | (a[2 * i + 1] << 8);
    cal[i] = i === T1 || i === P1 ? w : s16(w);
  }
  if (!h) return;
  cal[H1] = a[25];
  cal[H2] = s16(h[0] | (h[1] << 8));
  cal[H3] = h[2];
  cal[H4] = (((h[3] << 24) >> 20) | (h[4] & 0x0f));
  cal[H5] = (((h[5] << 24) >> 20) | (h[4] >> 4));
  cal[H6] = (h[6] << 24) >> 24;
}

/**
 * Fine temperature from adc_T (BME280 section 8.1 / BMP280 section 8.1, double version): the sum
 * var1 + var2 before the division. temperature degC = fine / 5120; t_fine = fine truncated (fine | 0).
 */
export function boschFine(cal: Int32Array, adcT: number): number {
  var var1 = (adcT / 16384 - cal[T1] / 1024) * cal[T2];
  var d = adcT / 131072 - cal[T1] / 8192;
  return var1 + d * d * cal[T3];
}

/** Pressure in Pa from adc_P and t_fine (integer), double version; NaN when the divisor is 0. */
export function boschPressure(cal: Int32Array, tFine: number, adcP: number): number {
  var var1 = tFine / 2 - 64000;
  var var2 = (var1 * var1 * cal[P6]) / 32768;
  var2 = var2 + var1 * cal[P5] * 2;
  var2 = var2 / 4 + cal[P4] * 65536;
  var1 = ((cal[P3] * var1 * var1) / 524288 + cal[P2] * var1) / 524288;
  var1 = (1 + var1 / 32768) * cal[P1];
  // The datasheet returns 0 here "to avoid exception caused by division by zero": we return NaN, which
  // the range check turns into an error instead of a reading of 0 Pa.
  if (var1 === 0) return NaN;
  var p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (cal[P9] * p * p) / 2147483648;
  var2 = (p * cal[P8]) / 32768;
  return p + (var1 + var2 + cal[P7]) / 16;
}

/** Relative humidity in %RH from adc_H and t_fine, double version (BME280 section 8.1), clamped 0..100 as there. */
export function boschHumidity(cal: Int32Array, tFine: number, adcH: number): number {
  var h = tFine - 76800;
  h = (adcH - (cal[H4] * 64 + (cal[H5] / 16384) * h)) * ((cal[H2] / 65536) * (1 + (cal[H6] / 67108864) * h * (1 + (cal[H3] / 67108864) * h)));
  h = h * (1 - (cal[H1] * h) / 524288);
  return h > 100 ? 100 : h < 0 ? 0 : h;
}

/**
 * Maximum measurement time in ms (BME280 section 9.1 "Measurement time", BMP280 section 3.8.1 table 13):
 * 1.25 + 2.3 * osrs_t + (2.3 * osrs_p + 0.575) + (2.3 * osrs_h + 0.575), a term left out when skipped.
 */
export function boschMeasureMs(osrsT: number, osrsP: number, osrsH: number): number {
  var t = 1.25 + 2.3 * osrsT;
  if (osrsP) t += 2.3 * osrsP + 0.575;
  if (osrsH) t += 2.3 * osrsH + 0.575;
  return Math.ceil(t);
}

/** Register code of an oversampling factor (osrs_x, BME280 tables 20/23/24): 0,1,2,4,8,16 -> 0..5; -1 if invalid. */
function osrsCode(n: number): number {
  var code = 0;
  for (var v = 0; v <= 16; v = v ? v * 2 : 1) {
    if (n === v) return code;
    code++;
  }
  return -1;
}

/** Register code of an IIR coefficient (filter[2:0], BME280 table 28): 0,2,4,8,16 -> 0..4; -1 if invalid. */
function filterCode(n: number): number {
  var code = 0;
  for (var v = 0; v <= 16; v = v ? v * 2 : 2) {
    if (n === v) return code;
    code++;
  }
  return -1;
}

export interface BoschOptions {
  io: RegisterIO;
  clock: Clock;
  address?: number;
  temperatureOversampling?: number;
  pressureOversampling?: number;
  humidityOversampling?: number;
  filter?: number;
}

export interface BoschSettings {
  temperatureOversampling?: number;
  pressureOversampling?: number;
  humidityOversampling?: number;
  filter?: number;
}

/**
 * Common driver of BME280 and BMP280; use the subclasses. Throws from the constructor (nothing is held
 * then: no timer is set before the chip is accepted) with "<chip> at <address>: <what was found>".
 */
export class BoschSensor implements Sensor {
  /** "BME280 at 0x76": prefix of every error message. */
  readonly name: string;
  private _io: RegisterIO;
  private _clock: Clock;
  private _humid: boolean;
  private _cal: Int32Array;
  private _data: Uint8Array;
  private _one: Uint8Array;
  private _osrsT: number;
  private _osrsP: number;
  private _osrsH: number;
  private _filter: number;
  private _cb: SampleCallback | null;
  private _err: Error | null;
  private _timer: any;
  private _polls: number;
  private _closed: boolean;
  private _onTimer: () => void;

  constructor(chip: string, humidity: boolean, options: BoschOptions) {
    var address = options.address === undefined ? 0x76 : options.address;
    this.name = chip + " at " + hex(address);
    if (!options.io || !options.clock) throw new Error(this.name + ": options.io and options.clock are required");
    this._io = options.io;
    this._clock = options.clock;
    this._humid = humidity;
    this._cal = new Int32Array(CALIBRATION_WORDS);
    // press(3) temp(3) hum(2): BMP280 has no humidity registers, so it reads 6.
    this._data = new Uint8Array(humidity ? 8 : 6);
    this._one = new Uint8Array(1);
    this._osrsT = 1;
    this._osrsP = 1;
    this._osrsH = humidity ? 1 : 0;
    this._filter = 0;
    this._cb = null;
    this._err = null;
    this._timer = null;
    this._polls = 0;
    this._closed = false;
    this._onTimer = this._step.bind(this);

    var id = this._readByte(REG_ID, "reading the chip id");
    var wanted = humidity ? id === CHIP_ID_BME280 : id === CHIP_ID_BMP280 || id === 0x56 || id === 0x57;
    if (!wanted) {
      var hint = id === CHIP_ID_BME280 ? " (is it a BME280?)" : id >= 0x56 && id <= 0x58 ? " (is it a BMP280?)" : id === 0x61 ? " (is it a BME680?)" : id === 0 || id === 0xff ? " (nothing answering: check wiring and address)" : "";
      throw new Error(this.name + ": chip id " + hex(id) + ", expected " + (humidity ? hex(CHIP_ID_BME280) : hex(CHIP_ID_BMP280)) + hint);
    }
    this._write(REG_RESET, RESET_WORD, "soft reset");
    // After a reset the chip copies its NVM into the image registers (status.im_update) and may not
    // answer for t_startup (2 ms): poll a bounded number of times, a failed read counts as "not yet".
    var ready = false;
    for (var i = 0; i < RESET_POLLS && !ready; i++) {
      try {
        this._io.read(REG_STATUS, this._one);
        ready = (this._one[0] & STATUS_IM_UPDATE) === 0;
      } catch (e) {
        ready = false;
      }
    }
    if (!ready) throw new Error(this.name + ": still busy after soft reset (status.im_update stays set)");
    var a = new Uint8Array(humidity ? 26 : 24);
    this._read(REG_CALIB00, a, "reading calibration");
    var h: Uint8Array | null = null;
    if (humidity) {
      h = new Uint8Array(7);
      this._read(REG_CALIB26, h, "reading calibration");
    }
    decodeCalibration(a, h, this._cal);
    if (this._cal[T1] === 0 || this._cal[P1] === 0) throw new Error(this.name + ": calibration reads as zero (dig_T1 " + this._cal[T1] + ", dig_P1 " + this._cal[P1] + ")");
    this.configure(options);
  }

  /**
   * Apply the settings present in options (see the table in the file header); others keep their value.
   * Throws "<chip>: <field> must be ..., got ..." on a bad value (nothing is changed then), or when a
   * sample is in progress. Writes config (0xF5) at once, the oversampling at the next sample().
   */
  configure(options: BoschSettings): void {
    if (this._cb) throw new Error(this.name + ": cannot configure while a sample is in progress");
    var t = this._checkOsrs("temperatureOversampling", options.temperatureOversampling, this._osrsT, 1);
    var p = this._checkOsrs("pressureOversampling", options.pressureOversampling, this._osrsP, 0);
    var hum = this._osrsH;
    if (options.humidityOversampling !== undefined) {
      if (!this._humid) throw new Error(this.name + ": humidityOversampling: this chip has no humidity sensor");
      hum = this._checkOsrs("humidityOversampling", options.humidityOversampling, hum, 0);
    }
    var f = this._filter;
    if (options.filter !== undefined) {
      if (filterCode(options.filter) < 0) throw new Error(this.name + ": filter must be one of 0, 2, 4, 8, 16, got " + options.filter);
      f = options.filter;
    }
    // config: t_sb[7:5] (unused in forced mode), filter[4:2], spi3w_en[0] (BME280 5.4.6).
    this._write(REG_CONFIG, filterCode(f) << 2, "writing config");
    this._osrsT = t;
    this._osrsP = p;
    this._osrsH = hum;
    this._filter = f;
  }

  /**
   * Start one forced-mode conversion; callback(error, sample) comes later, exactly once, after the
   * datasheet's maximum measurement time. A sample() while one is running, or after close(), gets an
   * error callback and does not touch the bus.
   */
  sample(callback: SampleCallback): void {
    if (this._closed) return failLater(this._clock, callback, new Error(this.name + ": closed"));
    if (this._cb) return failLater(this._clock, callback, new Error(this.name + ": a sample is already in progress"));
    this._cb = callback;
    this._err = null;
    this._polls = 0;
    try {
      // ctrl_hum takes effect only after the next write to ctrl_meas (BME280 5.4.3), so it goes first.
      if (this._humid) this._io.write(REG_CTRL_HUM, osrsCode(this._osrsH));
      this._io.write(REG_CTRL_MEAS, (osrsCode(this._osrsT) << 5) | (osrsCode(this._osrsP) << 2) | MODE_FORCED);
    } catch (e) {
      this._err = this._busError("starting a conversion", e);
      this._timer = this._clock.setTimeout(this._onTimer, 0);
      return;
    }
    this._timer = this._clock.setTimeout(this._onTimer, boschMeasureMs(this._osrsT, this._osrsP, this._osrsH));
  }

  /** Cancel the conversion wait; a pending callback gets Error("... closed") before this returns. Twice is harmless. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
    if (this._cb) this._finish(new Error(this.name + ": closed"), undefined);
  }

  private _step(): void {
    this._timer = null;
    if (this._err) return this._finish(this._err, undefined);
    var sample: Sample;
    try {
      this._io.read(REG_STATUS, this._one);
      if (this._one[0] & STATUS_MEASURING) {
        if (this._polls++ < LATE_POLLS) {
          this._timer = this._clock.setTimeout(this._onTimer, 2);
          return;
        }
        return this._finish(new Error(this.name + ": conversion did not finish (status.measuring still set)"), undefined);
      }
      this._io.read(REG_PRESS_MSB, this._data);
    } catch (e) {
      return this._finish(this._busError("reading the result", e), undefined);
    }
    var d = this._data;
    var adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
    var adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
    if (adcT === SKIPPED_20) return this._finish(new Error(this.name + ": no temperature data (adc_T 0x80000)"), undefined);
    var fine = boschFine(this._cal, adcT);
    var tFine = fine | 0;
    var t = fine / 5120;
    if (!(t >= -40 && t <= 85)) return this._finish(this._range("temperature", t, "degC", "-40..85"), undefined);
    sample = { temperature: t };
    if (this._osrsP) {
      var p = adcP === SKIPPED_20 ? NaN : boschPressure(this._cal, tFine, adcP);
      if (!(p >= 30000 && p <= 110000)) return this._finish(this._range("pressure", p, "Pa", "30000..110000"), undefined);
      sample.pressure = p;
    }
    if (this._osrsH) {
      var adcH = (d[6] << 8) | d[7];
      if (adcH === SKIPPED_16) return this._finish(new Error(this.name + ": no humidity data (adc_H 0x8000)"), undefined);
      sample.humidity = boschHumidity(this._cal, tFine, adcH);
    }
    this._finish(null, sample);
  }

  private _finish(err: Error | null, sample: Sample | undefined): void {
    var cb = this._cb!;
    this._cb = null;
    this._err = null;
    if (err) cb(err);
    else cb(null, sample);
  }

  private _range(what: string, v: number, unit: string, range: string): Error {
    return new Error(this.name + ": " + what + " " + (v === v ? Math.round(v * 100) / 100 + " " + unit : "not computable") + " is outside the part's range " + range + " " + unit);
  }

  private _checkOsrs(field: string, v: number | undefined, current: number, min: number): number {
    if (v === undefined) return current;
    if (osrsCode(v) < min) throw new Error(this.name + ": " + field + " must be one of " + (min ? "" : "0, ") + "1, 2, 4, 8, 16, got " + v);
    return v;
  }

  private _busError(what: string, e: any): Error {
    return new Error(this.name + ": bus error " + what + ": " + (e && e.message ? e.message : String(e)));
  }

  private _read(reg: number, buf: Uint8Array, what: string): void {
    try {
      this._io.read(reg, buf);
    } catch (e) {
      throw this._busError(what, e);
    }
  }

  private _readByte(reg: number, what: string): number {
    this._read(reg, this._one, what);
    return this._one[0];
  }

  private _write(reg: number, v: number, what: string): void {
    try {
      this._io.write(reg, v);
    } catch (e) {
      throw this._busError(what, e);
    }
  }
}
