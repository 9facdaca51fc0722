/*
 * BME280 / BMP280 driver: temperature, pressure and (BME280) humidity over a RegisterIO, forced mode.
 * The two chips share the register map, the calibration layout and the compensation; the BMP280 has no
 * humidity sensor (no ctrl_hum, no hum_msb/lsb, no dig_H*), so one driver serves both.
 *
 * Datasheets:
 *   BME280: Bosch Sensortec BST-BME280-DS002, revision 1.6 (09/2018),
 *     https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bme280-ds002.pdf
 *     Chip id 0xD0 must read 0x60 (section 5.4.1).
 *   BMP280: Bosch Sensortec BST-BMP280-DS001, revision 1.19+ (01/2018),
 *     https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
 *     Chip id reads 0x58 on production parts (section 4.3.1); 0x56 and 0x57 (engineering samples) too.
 * Registers go through a RegisterIO (firmware/types.ts), so one driver serves I2C, SPI and the simulator.
 *
 *   var s = createBoschSensor("bme280", { io: io, clock: clock, address: 0x76 });
 *   s.sample(function (err, v) { ... v.temperature degC, v.pressure Pa, v.humidity %RH ... });
 *
 * Not supported: normal (free-running) mode, SPI 3-wire setup, the integer compensation variants (the
 * double ones of BME280 section 8.1 / BMP280 section 8.1 are exact in JavaScript's numbers and need no
 * 64-bit integers, which Espruino lacks).
 *
 * Options (createBoschSensor; configureBoschSensor takes the same fields but io/clock/address):
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
 *
 * Sample (callback later, exactly once):
 * | property    | unit | range checked (operating range, BME280 table 1 / BMP280 table 2) |
 * | ----------- | ---- | ----------------------------------------------------------------- |
 * | temperature | degC | -40 .. 85                                                        |
 * | pressure    | Pa   | 30000 .. 110000 (absent when pressureOversampling is 0)          |
 * | humidity    | %RH  | 0 .. 100, BME280 only (absent when humidityOversampling is 0)    |
 *
 * Memory (ARCHITECTURE.md "Memory"; measured with bench/mem/sensors.ts): on the device every function
 * object lives as long as the firmware, 5 JsVars + 1 per parameter, and a class costs ~10 more than a
 * plain object for its prototype. So:
 * - the sensor is a plain object whose sample is the module function boschSample, shared by every Bosch
 *   sensor and bound to its sensor once; it is also the conversion timer's handler (called without a
 *   callback) and, called with false, the close (close is closeSensor of ./close.ts, shared by every
 *   driver, which calls sample(false)): one function object of this driver, one bound copy per sensor;
 * - the datasheet formulas, decodeCalibration and configureBoschSensor are each called from exactly one
 *   place, so the minifier inlines them there and no function object of theirs stays on the device
 *   (a second caller in the firmware would cost 5+ JsVars for good; tests and the simulator may call them);
 * - createBoschSensor's boot work (chip check, reset, calibration) runs once and leaves nothing behind;
 * - the calibration stays as its 33 raw register bytes (7 JsVars) and is decoded into a temporary array at
 *   each sample; the 18 decoded words would hold twice that for as long as the node runs. The read
 *   buffer is per sample too (I2C.readFrom allocates one per read anyway). No subarray(): its first use
 *   creates Espruino's ArrayBuffer class for good.
 */
import type { Clock, RegisterIO, Sample, SampleCallback, Sensor } from "../types";
import { closeSensor } from "./close";

// Registers (BME280 section 5.3 table 18, BMP280 section 4.2 table 18), spelled as the datasheets do.
const REG_CALIB00 = 0x88; // calib00..calib25: dig_T1..dig_P9, then dig_H1 at 0xA1 (BME280)
const REG_ID = 0xd0;
const REG_RESET = 0xe0;
const REG_CALIB26 = 0xe1; // calib26..calib32: dig_H2..dig_H6 (BME280 table 16)
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3; // status, ctrl_meas, config, (0xF6), press_msb..hum_lsb: one burst read per poll
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;

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
const SKIPPED_16 = 0x8000;
/** Offset of the 0xE1 block in the raw calibration bytes (after the 26 bytes from 0x88). */
const CAL_H = 26;

export const CHIP_ID_BME280 = 0x60;
export const CHIP_ID_BMP280 = 0x58;

// Calibration words (decodeCalibration). Index = position in the datasheet's table.
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

/** Calibration words: an Int32Array(CALIBRATION_WORDS) or a plain array (the driver's, per sample). */
export type Calibration = { [index: number]: number };

/**
 * Decode the calibration blocks (BME280 table 16, BMP280 table 17) into cal.
 * @param a bytes from 0x88: 24 (BMP280) or 26 (BME280, holds dig_H1 at index 25)
 * @param h bytes from 0xE1 (7, BME280) or null
 * @param at where the 0xE1 block starts in h (default 0): the driver keeps both blocks in one array
 */
export function decodeCalibration(a: ArrayLike<number>, h: ArrayLike<number> | null, cal: Calibration, at?: number): void {
  for (var i = 0; i < 12; i++) {
    var w = a[2 * i] | (a[2 * i + 1] << 8);
    // dig_T1 and dig_P1 are unsigned, the others signed: << 16 >> 16 extends the sign of 16 bits.
    cal[i] = i === T1 || i === P1 ? w : (w << 16) >> 16;
  }
  if (!h) return;
  var j = at || 0;
  cal[H1] = a[25];
  cal[H2] = ((h[j] | (h[j + 1] << 8)) << 16) >> 16;
  cal[H3] = h[j + 2];
  cal[H4] = ((h[j + 3] << 24) >> 20) | (h[j + 4] & 0x0f);
  cal[H5] = ((h[j + 5] << 24) >> 20) | (h[j + 4] >> 4);
  cal[H6] = (h[j + 6] << 24) >> 24;
}

/**
 * Fine temperature from adc_T (BME280 section 8.1 / BMP280 section 8.1, double version): the sum
 * var1 + var2 before the division. temperature degC = fine / 5120; t_fine = fine truncated (fine | 0).
 */
export function boschFine(cal: Calibration, adcT: number): number {
  var var1 = (adcT / 16384 - cal[T1] / 1024) * cal[T2];
  var d = adcT / 131072 - cal[T1] / 8192;
  return var1 + d * d * cal[T3];
}

/** Pressure in Pa from adc_P and t_fine (integer), double version; NaN when the divisor is 0. */
export function boschPressure(cal: Calibration, tFine: number, adcP: number): number {
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
export function boschHumidity(cal: Calibration, tFine: number, adcH: number): number {
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

export interface BoschSettings {
  temperatureOversampling?: number;
  pressureOversampling?: number;
  humidityOversampling?: number;
  filter?: number;
}

export interface BoschOptions extends BoschSettings {
  io: RegisterIO;
  clock: Clock;
  address?: number;
}

/**
 * A BME280 or BMP280 (createBoschSensor). `name` ("BME280 at 0x76") prefixes every error message.
 * The `_` members are the driver's state, mangled on the device: nothing outside this file reads them.
 */
export interface BoschSensor extends Sensor {
  readonly name: string;
  /**
   * Start one forced-mode conversion; callback(error, sample) comes later, exactly once, after the
   * datasheet's maximum measurement time. A sample() while one is running, after close(), or whose
   * trigger fails on the bus gets an error callback later. Bound to its sensor: without a callback, it
   * is the driver's own conversion timer.
   */
  sample(callback?: SampleCallback | false): void;
  /**
   * Cancel the conversion wait; a pending callback gets Error("... closed") before this returns. Twice is
   * harmless. The same as sample(false).
   */
  close(): void;
  /** The bus; undefined once closed. */
  _io: RegisterIO | undefined;
  _clock: Clock;
  /** Raw calibration registers: 0x88..0xA1 at 0, 0xE1..0xE7 at CAL_H (BME280 only). */
  _cal: Uint8Array;
  /** ctrl_meas (osrs_t, osrs_p, forced mode), written at each sample. */
  _meas: number;
  /** ctrl_hum (osrs_h), written before ctrl_meas; -1 on a BMP280, which has no such register. */
  _hum: number;
  /** config (IIR filter), written by configureBoschSensor. */
  _config: number;
  /** The pending sample's callback; undefined when idle. */
  _cb: SampleCallback | undefined;
  _timer: any;
  /** Late status polls of the pending sample. */
  _polls: number;
}

/**
 * BoschSensor.sample: with a callback, start a conversion; without one, the conversion timer fired:
 * read status and data (one burst from 0xF3), compensate, range-check and call back. With false: close.
 */
function boschSample(this: BoschSensor, callback?: SampleCallback | false): void {
  var s = this;
  var err = "";
  var cb = s._cb;
  if (callback === false) {
    if (!s._io) return;
    s._io = undefined;
    if (s._timer !== undefined) s._clock.clearTimeout(s._timer);
    s._timer = undefined;
    s._cb = undefined;
    if (cb) cb(new Error(s.name + ": closed"));
    return;
  }
  if (callback) {
    if (!s._io) err = "closed";
    else if (s._cb) err = "a sample is already in progress";
    else {
      try {
        // ctrl_hum takes effect only after the next write to ctrl_meas (BME280 5.4.3), so it goes first.
        if (s._hum >= 0) s._io.write(REG_CTRL_HUM, s._hum);
        s._io.write(REG_CTRL_MEAS, s._meas);
      } catch (e: any) {
        err = "bus error starting a conversion: " + (e && e.message ? e.message : String(e));
      }
    }
    if (err) {
      // Refusals are rare: a closure for this one callback, later as the contract says.
      var refusal = new Error(s.name + ": " + err);
      s._clock.setTimeout(function () {
        callback(refusal);
      }, 0);
      return;
    }
    s._cb = callback;
    s._polls = 0;
    // osrs code c -> factor: 0 -> 0 (skipped), 1..5 -> 1, 2, 4, 8, 16, i.e. (1 << c) >> 1.
    var h = s._hum > 0 ? (1 << s._hum) >> 1 : 0;
    s._timer = s._clock.setTimeout(s.sample, boschMeasureMs((1 << (s._meas >> 5)) >> 1, (1 << ((s._meas >> 2) & 7)) >> 1, h));
    return;
  }

  // The conversion timer (sample() without a callback).
  if (!cb || !s._io) return;
  s._timer = undefined;
  var humid = s._hum >= 0;
  // status(F3) ctrl_meas config (F6) press(3) temp(3) [hum(2)]: the BMP280 has no humidity registers.
  var d = new Uint8Array(humid ? 12 : 10);
  var v: Sample = {};
  try {
    s._io.read(REG_STATUS, d);
  } catch (e: any) {
    err = "bus error reading the result: " + (e && e.message ? e.message : String(e));
  }
  if (!err && d[0] & STATUS_MEASURING) {
    if (s._polls++ < LATE_POLLS) {
      s._timer = s._clock.setTimeout(s.sample, 2);
      return;
    }
    err = "conversion did not finish (status.measuring still set)";
  }
  // 0x80000: a skipped or not yet converted 20-bit value (a local: a module constant used twice would
  // stay on the device as a variable).
  var skipped = 0x80000;
  var adcT = (d[7] << 12) | (d[8] << 4) | (d[9] >> 4);
  if (!err && adcT === skipped) err = "no temperature data (adc_T 0x80000)";
  if (!err) {
    var cal: number[] = [];
    decodeCalibration(s._cal, humid ? s._cal : null, cal, CAL_H);
    var fine = boschFine(cal, adcT);
    var tFine = fine | 0;
    var t = fine / 5120;
    if (t >= -40 && t <= 85) v.temperature = t;
    else err = "temperature " + Math.round(t * 100) / 100 + " degC is outside the part's range -40..85 degC";
    if (!err && (s._meas >> 2) & 7) {
      var adcP = (d[4] << 12) | (d[5] << 4) | (d[6] >> 4);
      var p = adcP === skipped ? NaN : boschPressure(cal, tFine, adcP);
      if (p >= 30000 && p <= 110000) v.pressure = p;
      else err = "pressure " + (p === p ? Math.round(p * 100) / 100 + " Pa" : "not computable") + " is outside the part's range 30000..110000 Pa";
    }
    if (!err && s._hum > 0) {
      var adcH = (d[10] << 8) | d[11];
      if (adcH === SKIPPED_16) err = "no humidity data (adc_H 0x8000)";
      else v.humidity = boschHumidity(cal, tFine, adcH);
    }
  }
  s._cb = undefined;
  if (err) cb(new Error(s.name + ": " + err));
  else cb(null, v);
}

/**
 * Check the chip, soft-reset it, read its calibration and apply the options (table in the file header).
 * Throws "BME280 at 0x76: chip id 0x58, expected 0x60 (is it a BMP280?)" and the like; nothing is held
 * then (no timer is set before the chip is accepted).
 */
export function createBoschSensor(chip: "bme280" | "bmp280", options: BoschOptions): BoschSensor {
  var humid = chip === "bme280";
  var address = options.address === undefined ? 0x76 : options.address;
  // "0x76": addresses and chip ids in messages are written the way the datasheets write them.
  // The two addresses a Bosch chip can have are spelled out: the first Number method called (toString)
  // would bring Espruino's Number class into RAM for good (8 JsVars); error paths may still call one.
  var name = chip.toUpperCase() + " at " + (address === 0x76 ? "0x76" : address === 0x77 ? "0x77" : "0x" + address.toString(16));
  var io = options.io;
  if (!io || !options.clock) throw new Error(name + ": options.io and options.clock are required");
  var s: BoschSensor = {
    name: name,
    sample: boschSample,
    close: closeSensor,
    _io: io,
    _clock: options.clock,
    _cal: new Uint8Array(humid ? 33 : 24),
    _meas: (1 << 5) | (1 << 2) | MODE_FORCED,
    _hum: humid ? 1 : -1,
    _config: 0,
    _cb: undefined,
    _timer: undefined,
    _polls: 0
  };
  // Bound once: the conversion timer calls s.sample as it is (a bound copy costs 5 JsVars).
  s.sample = boschSample.bind(s);

  var one = new Uint8Array(1);
  var step = "reading the chip id";
  var id = -1;
  var ready = false;
  try {
    io.read(REG_ID, one);
    id = one[0];
    if (humid ? id === CHIP_ID_BME280 : id === CHIP_ID_BMP280 || id === 0x56 || id === 0x57) {
      step = "soft reset";
      io.write(REG_RESET, RESET_WORD);
      // After a reset the chip copies its NVM into the image registers (status.im_update) and may not
      // answer for t_startup (2 ms): poll a bounded number of times, a failed read counts as "not yet".
      for (var i = 0; i < RESET_POLLS && !ready; i++) {
        try {
          io.read(REG_STATUS, one);
          ready = (one[0] & STATUS_IM_UPDATE) === 0;
        } catch (e) {
          ready = false;
        }
      }
      step = "reading calibration";
      // Into separate buffers, then copied: a subarray() view would bring in the ArrayBuffer class for
      // good (~9 JsVars on the first use).
      var a = new Uint8Array(humid ? CAL_H : 24);
      var h = new Uint8Array(7);
      if (ready) io.read(REG_CALIB00, a);
      if (ready && humid) io.read(REG_CALIB26, h);
      for (i = 0; i < s._cal.length; i++) s._cal[i] = i < a.length ? a[i] : h[i - CAL_H];
    }
  } catch (e: any) {
    throw new Error(name + ": bus error " + step + ": " + (e && e.message ? e.message : String(e)));
  }
  if (step === "reading the chip id") {
    var hint = id === CHIP_ID_BME280 ? " (is it a BME280?)" : id >= 0x56 && id <= 0x58 ? " (is it a BMP280?)" : id === 0x61 ? " (is it a BME680?)" : id === 0 || id === 0xff ? " (nothing answering: check wiring and address)" : "";
    throw new Error(name + ": chip id " + (id < 16 ? "0x0" : "0x") + id.toString(16) + ", expected " + (humid ? "0x60" : "0x58") + hint);
  }
  if (!ready) throw new Error(name + ": still busy after soft reset (status.im_update stays set)");
  // dig_T1 and dig_P1 are unsigned words that the compensation divides by: zero means no calibration.
  var c = s._cal;
  if (!(c[0] | c[1]) || !(c[6] | c[7])) throw new Error(name + ": calibration reads as zero (dig_T1 " + (c[0] | (c[1] << 8)) + ", dig_P1 " + (c[6] | (c[7] << 8)) + ")");
  configureBoschSensor(s, options);
  return s;
}

/**
 * Apply the settings present in options (see the table in the file header); others keep their value.
 * Throws "<chip>: <field> must be ..., got ..." on a bad value (nothing is changed then), or when a
 * sample is in progress. Writes config (0xF5) at once, the oversampling at the next sample().
 */
export function configureBoschSensor(s: BoschSensor, options: BoschSettings): void {
  if (s._cb) throw new Error(s.name + ": cannot configure while a sample is in progress");
  // Register codes (BME280 tables 20/23/24 and 28): osrs_x 0,1,2,4,8,16 -> 0..5; filter 0,2,4,8,16 -> 0..4.
  var factors = [0, 1, 2, 4, 8, 16];
  var t = options.temperatureOversampling === undefined ? s._meas >> 5 : factors.indexOf(options.temperatureOversampling);
  var p = options.pressureOversampling === undefined ? (s._meas >> 2) & 7 : factors.indexOf(options.pressureOversampling);
  var h = options.humidityOversampling === undefined ? s._hum : factors.indexOf(options.humidityOversampling);
  var f = options.filter === undefined ? s._config >> 2 : [0, 2, 4, 8, 16].indexOf(options.filter);
  if (t < 1) throw new Error(s.name + ": temperatureOversampling must be one of 1, 2, 4, 8, 16, got " + options.temperatureOversampling);
  if (p < 0) throw new Error(s.name + ": pressureOversampling must be one of 0, 1, 2, 4, 8, 16, got " + options.pressureOversampling);
  if (options.humidityOversampling !== undefined && s._hum < 0) throw new Error(s.name + ": humidityOversampling: this chip has no humidity sensor");
  if (h < 0 && s._hum >= 0) throw new Error(s.name + ": humidityOversampling must be one of 0, 1, 2, 4, 8, 16, got " + options.humidityOversampling);
  if (f < 0) throw new Error(s.name + ": filter must be one of 0, 2, 4, 8, 16, got " + options.filter);
  // config: t_sb[7:5] (unused in forced mode), filter[4:2], spi3w_en[0] (BME280 5.4.6).
  try {
    s._io!.write(REG_CONFIG, f << 2);
  } catch (e: any) {
    throw new Error(s.name + ": bus error writing config: " + (e && e.message ? e.message : String(e)));
  }
  s._config = f << 2;
  s._meas = (t << 5) | (p << 2) | MODE_FORCED;
  s._hum = h;
}
