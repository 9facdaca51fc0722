/*
 * Virtual Bosch BME280 / BMP280 at the register level, for the simulator (routed through sim/hw/types.ts
 * I2CDevice) and for driver tests (through a RegisterIO adapter, registerIO() below).
 *
 * Modelled (BME280 datasheet BST-BME280-DS002 section 5, BMP280 BST-BMP280-DS001 section 4):
 * - id 0xD0 (0x60 / 0x58, or chipId), reset 0xE0 (0xB6 resets; status.im_update then reads set for the
 *   next IM_UPDATE_READS status reads), ctrl_hum 0xF2 (latched at the next ctrl_meas write, 5.4.3),
 *   status 0xF3, ctrl_meas 0xF4, config 0xF5, data 0xF7..0xFE, calibration 0x88..0xA1 and 0xE1..0xE7.
 * - Forced mode: writing mode 01/10 to ctrl_meas sets status.measuring for the typical measurement time
 *   (BME280 section 9.1: 1 + 2 osrs_t + 2 osrs_p + 0.5 + 2 osrs_h + 0.5 ms), then latches the data
 *   registers and returns to sleep. Skipped measurements read 0x80000 / 0x8000; resolution is 16 bits +
 *   (osrs - 1) for temperature and pressure (section 3.4.2-3.4.3). The IIR filter is not modelled.
 * - Raw values come from the physical ones by inverting the driver's own compensation (binary search
 *   over the ADC code), so the model and the driver agree by construction within one ADC step.
 * - I2C writes are register/data pairs (section 6.2.1: no auto-increment on writes); reads auto-increment.
 * Faults: fail = "timeout" | "unplugged" makes every read and write throw, like a NACK / bus timeout.
 */
import type { I2CDevice } from "./types.ts";
import type { RegisterIO } from "../../firmware/types.ts";
import { boschFine, boschPressure, boschHumidity, decodeCalibration, CALIBRATION_WORDS } from "../../firmware/sensors/bosch.ts";

/**
 * Calibration used by default: dig_T1..dig_P9 are the BMP280 datasheet's worked example (section 3.12
 * of rev 1.14), dig_H1..dig_H6 typical values of a BME280 (not from a datasheet). As register bytes.
 */
export const DEFAULT_CALIBRATION = {
  T: [27504, 26435, -1000],
  P: [36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000],
  H: [75, 362, 0, 313, 50, 30]
};

/** Encode dig_* words into the two register blocks: 26 bytes from 0x88 and 7 bytes from 0xE1. */
export function encodeCalibration(T: number[], P: number[], H: number[]): { a: Uint8Array; h: Uint8Array } {
  var a = new Uint8Array(26);
  var words = T.concat(P);
  for (var i = 0; i < 12; i++) {
    var w = words[i] & 0xffff;
    a[2 * i] = w & 0xff;
    a[2 * i + 1] = w >> 8;
  }
  a[25] = H[0] & 0xff;
  var h = new Uint8Array(7);
  h[0] = H[1] & 0xff;
  h[1] = (H[1] >> 8) & 0xff;
  h[2] = H[2] & 0xff;
  h[3] = (H[3] >> 4) & 0xff;
  h[4] = (H[3] & 0x0f) | ((H[4] & 0x0f) << 4);
  h[5] = (H[4] >> 4) & 0xff;
  h[6] = H[5] & 0xff;
  return { a: a, h: h };
}

/** Status reads that still show im_update after a soft reset. */
export const IM_UPDATE_READS = 2;

export interface BoschChipOptions {
  type: "bme280" | "bmp280";
  address?: number;
  /** Milliseconds, the simulator's clock; measurements finish on it. Default Date.now. */
  now?: () => number;
  chipId?: number;
  /** Calibration register bytes (from encodeCalibration or a dump); default DEFAULT_CALIBRATION. */
  calibration?: { a: Uint8Array; h: Uint8Array };
}

export class BoschChip implements I2CDevice {
  address: number;
  readonly type: "bme280" | "bmp280";
  /** Physical values the next conversion measures: degC, Pa, %RH. */
  temperature = 21;
  pressure = 101325;
  humidity = 45;
  fail: "timeout" | "unplugged" | null = null;
  /** Register file, readable by tests. */
  readonly regs = new Uint8Array(256);
  /** Number of conversions started (forced mode). */
  conversions = 0;
  private ptr = 0;
  private now: () => number;
  private cal = new Int32Array(CALIBRATION_WORDS);
  private doneAt = -1;
  private imReads = 0;
  private ctrlHumLatched = 0;
  private nvm: { a: Uint8Array; h: Uint8Array };
  private chipId: number;

  constructor(options: BoschChipOptions) {
    this.type = options.type;
    this.address = options.address === undefined ? 0x76 : options.address;
    this.now = options.now || Date.now;
    this.chipId = options.chipId === undefined ? (this.type === "bme280" ? 0x60 : 0x58) : options.chipId;
    var c = DEFAULT_CALIBRATION;
    this.nvm = options.calibration || encodeCalibration(c.T, c.P, c.H);
    decodeCalibration(this.nvm.a, this.type === "bme280" ? this.nvm.h : null, this.cal);
    this.powerOn();
  }

  /** Power-on / soft-reset state: registers at their reset values, NVM copied to the image registers. */
  private powerOn(): void {
    this.regs.fill(0);
    this.regs[0xd0] = this.chipId;
    this.regs.set(this.type === "bme280" ? this.nvm.a : this.nvm.a.subarray(0, 24), 0x88);
    if (this.type === "bme280") this.regs.set(this.nvm.h, 0xe1);
    // Data registers reset values (BME280 table 18): 0x80 0x00 0x00 for press/temp, 0x80 0x00 for hum.
    this.regs[0xf7] = 0x80;
    this.regs[0xfa] = 0x80;
    if (this.type === "bme280") this.regs[0xfd] = 0x80;
    this.doneAt = -1;
    this.ctrlHumLatched = 0;
  }

  write(bytes: Uint8Array): void {
    this.check();
    if (bytes.length === 0) return;
    this.ptr = bytes[0];
    for (var i = 0; i + 1 < bytes.length; i += 2) this.writeReg(bytes[i], bytes[i + 1]);
  }

  read(count: number): Uint8Array {
    this.check();
    this.update();
    var out = new Uint8Array(count);
    for (var i = 0; i < count; i++) {
      var r = (this.ptr + i) & 0xff;
      if (r === 0xf3) {
        var s = this.regs[0xf3];
        if (this.imReads > 0) {
          this.imReads--;
          s |= 0x01;
        }
        out[i] = s;
      } else out[i] = this.regs[r];
    }
    this.ptr = (this.ptr + count) & 0xff;
    return out;
  }

  /** The compensated values the data registers now hold (what a perfect driver would read). */
  latched(): { temperature: number; pressure: number; humidity: number } {
    var r = this.regs;
    var adcP = (r[0xf7] << 12) | (r[0xf8] << 4) | (r[0xf9] >> 4);
    var adcT = (r[0xfa] << 12) | (r[0xfb] << 4) | (r[0xfc] >> 4);
    var adcH = (r[0xfd] << 8) | r[0xfe];
    var fine = boschFine(this.cal, adcT);
    return { temperature: fine / 5120, pressure: boschPressure(this.cal, fine | 0, adcP), humidity: boschHumidity(this.cal, fine | 0, adcH) };
  }

  private check(): void {
    if (this.fail === "timeout") throw new Error("I2C timeout");
    if (this.fail === "unplugged") throw new Error("I2C NACK at " + this.address);
  }

  private writeReg(reg: number, v: number): void {
    if (reg === 0xe0) {
      if (v === 0xb6) {
        this.powerOn();
        this.imReads = IM_UPDATE_READS;
      }
      return;
    }
    if (reg === 0xf2 && this.type === "bme280") {
      this.regs[0xf2] = v & 0x07;
      return;
    }
    if (reg === 0xf5) {
      this.regs[0xf5] = v & 0xfd;
      return;
    }
    if (reg === 0xf4) {
      this.update();
      this.regs[0xf4] = v;
      this.ctrlHumLatched = this.regs[0xf2];
      var mode = v & 0x03;
      if (mode === 1 || mode === 2) this.startForced();
      return;
    }
    // Everything else is read-only: writes are ignored, as on the chip.
  }

  private osrs(code: number): number {
    return code === 0 ? 0 : code >= 5 ? 16 : 1 << (code - 1);
  }

  private startForced(): void {
    var ot = this.osrs((this.regs[0xf4] >> 5) & 7);
    var op = this.osrs((this.regs[0xf4] >> 2) & 7);
    var oh = this.type === "bme280" ? this.osrs(this.ctrlHumLatched & 7) : 0;
    var ms = 1 + 2 * ot + (op ? 2 * op + 0.5 : 0) + (oh ? 2 * oh + 0.5 : 0);
    this.doneAt = this.now() + ms;
    this.regs[0xf3] |= 0x08;
    this.conversions++;
  }

  /** Finish a conversion whose time has come: latch raw values, clear measuring, back to sleep. */
  private update(): void {
    if (this.doneAt < 0 || this.now() < this.doneAt) return;
    this.doneAt = -1;
    var ctrl = this.regs[0xf4];
    var ot = (ctrl >> 5) & 7;
    var op = (ctrl >> 2) & 7;
    var oh = this.type === "bme280" ? this.ctrlHumLatched & 7 : 0;
    var adcT = ot ? this.rawT() : 0x80000;
    var fine = boschFine(this.cal, adcT) | 0;
    var adcP = op ? this.rawP(fine) : 0x80000;
    if (ot) adcT = this.resolution(adcT, ot);
    if (op) adcP = this.resolution(adcP, op);
    this.put20(0xf7, adcP);
    this.put20(0xfa, adcT);
    if (this.type === "bme280") {
      var adcH = oh ? this.rawH(fine) : 0x8000;
      this.regs[0xfd] = adcH >> 8;
      this.regs[0xfe] = adcH & 0xff;
    }
    this.regs[0xf3] &= ~0x08;
    this.regs[0xf4] &= 0xfc;
  }

  /** 16 bits + (osrs - 1) of resolution (BME280 3.4.2): clear the bits the setting does not resolve. */
  private resolution(adc: number, code: number): number {
    var bits = 16 + Math.min(code - 1, 4);
    return adc & ~((1 << (20 - bits)) - 1);
  }

  private put20(reg: number, v: number): void {
    this.regs[reg] = (v >> 12) & 0xff;
    this.regs[reg + 1] = (v >> 4) & 0xff;
    this.regs[reg + 2] = (v & 0x0f) << 4;
  }

  /** Smallest code whose value is >= target for an increasing f (or <= for decreasing), 0..max. */
  private search(max: number, target: number, increasing: boolean, f: (x: number) => number): number {
    var lo = 0;
    var hi = max;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      var v = f(mid);
      if (increasing ? v < target : v > target) lo = mid + 1;
      else hi = mid;
    }
    // Pick the nearer of the two neighbours.
    if (lo > 0 && Math.abs(f(lo - 1) - target) < Math.abs(f(lo) - target)) lo--;
    return lo;
  }

  private rawT(): number {
    var cal = this.cal;
    return this.search(0xfffff, this.temperature, true, function (x) {
      return boschFine(cal, x) / 5120;
    });
  }

  private rawP(fine: number): number {
    var cal = this.cal;
    // Pressure falls as adc_P rises (the formula starts from 1048576 - adc_P).
    return this.search(0xfffff, this.pressure, false, function (x) {
      return boschPressure(cal, fine, x);
    });
  }

  private rawH(fine: number): number {
    var cal = this.cal;
    return this.search(0xffff, this.humidity, true, function (x) {
      return boschHumidity(cal, fine, x);
    });
  }
}

/** A RegisterIO (firmware/types.ts) over any I2CDevice, as board wiring builds over Espruino's I2C. */
export function registerIO(dev: I2CDevice): RegisterIO {
  var one = new Uint8Array(2);
  return {
    read(reg: number, buffer: Uint8Array): void {
      one[0] = reg;
      dev.write(one.subarray(0, 1));
      buffer.set(dev.read(buffer.length));
    },
    write(reg: number, value: number): void {
      one[0] = reg;
      one[1] = value;
      dev.write(one);
    }
  };
}
