/*
 * Harness of the sensor memory entries (bench/mem/sensors.ts, sensors-dht22.ts, sensors-base.ts): the same
 * wiring as firmware/main.ts (DeviceClock, i2cBus + I2CRegisterIO, a DHTPins), one read every 2 s, each
 * sample pushed through the filter chains and the published values printed ("pub t h p").
 *
 * The Linux interpreter has no BME280 and no DHT22, so:
 *  - I2C.prototype.setup/writeTo/readFrom serve a static BME280 register file (registers 0x88..0xFF of
 *    sim/hw/bosch.ts's BoschChip after one forced conversion at 22.5 degC, 100800 Pa, 48 %RH, status 0),
 *    like bme280Prelude() in bench/memory.ts;
 *  - BenchDHTPins replays a DHT22 frame (21.5 degC, 48.0 %RH) as falling edges when the driver releases the line.
 * sensors-base.ts runs this harness with no driver and no filters: subtract its steady figure from the
 * others to get what the sensor modules cost.
 */
import { DeviceClock, i2cBus, I2CRegisterIO } from "../../firmware/platform";
import type { Clock, RegisterIO, Sample, Sensor } from "../../firmware/types";
import type { SensorFilters } from "../../firmware/filters";

declare var I2C: any;
declare function setInterval(fn: () => void, ms: number): any;
declare function setTimeout(fn: () => void, ms: number): any;
declare function getTime(): number;
declare function atob(s: string): string;

/* Regenerate: BoschChip({type: "bme280"}) with the values above, one forced conversion, regs.subarray(0x88), base64. */
var REGS = atob("cGtDZxj8fY5D1tALJwuMAPn/jDz4xnAXAEsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAYAAAAAAAAAAAAAAAAAAAAABqAQATKQMeAAAAAAAAAAAAAAEAJAAAZJQAfOoAcFAA");
var regPtr = 0;
var warm: any[];

/* DHT22 frame: humidity 480 (48.0 %RH), temperature 215 (21.5 degC), checksum. */
var FRAME = [0x01, 0xe0, 0x00, 0xd7, (0x01 + 0xe0 + 0x00 + 0xd7) & 0xff];

/** The DHTPins of the bench: no pin is touched; a release after a start pulse replays FRAME 1 ms later. */
export class BenchDHTPins {
  _low = false;
  _cb: ((e: any) => void) | null = null;

  pinMode(pin: number, mode: string): void {
    if (mode !== "input_pullup" || !this._low) return;
    this._low = false;
    var self = this;
    setTimeout(function () {
      var t = getTime();
      var e = { state: false, time: t };
      var cb = self._cb;
      if (!cb) return;
      cb(e);
      e.time = t += 0.00016; // response: 80 us low + 80 us high
      cb(e);
      for (var i = 0; i < 40; i++) {
        e.time = t += (FRAME[i >> 3] >> (7 - (i & 7))) & 1 ? 0.00012 : 0.000076;
        cb(e);
      }
    }, 1);
  }

  digitalWrite(pin: number, level: number): void {
    if (level === 0) this._low = true;
  }

  setWatch(callback: (e: any) => void, pin: number, options: any): any {
    this._cb = callback;
    return 1;
  }

  clearWatch(id: any): void {
    this._cb = null;
  }
}

/** What an entry builds: the driver and its filter chains (both undefined in sensors-base.ts). */
export interface BenchParts {
  sensor: Sensor | undefined;
  filters: SensorFilters | undefined;
}

export function bench(make: (clock: Clock, io: RegisterIO, pins: BenchDHTPins) => BenchParts): void {
  I2C.prototype.setup = function () {};
  I2C.prototype.writeTo = function (a: number, d: any) {
    regPtr = (typeof d === "number" ? d : d[0]) - 0x88;
  };
  I2C.prototype.readFrom = function (a: number, n: number) {
    var u = new Uint8Array(n);
    for (var i = 0; i < n; i++) u[i] = regPtr + i >= 0 ? REGS.charCodeAt(regPtr + i) : 0;
    return u;
  };
  // Held by the timer in every entry (also sensors-base.ts, where no driver keeps them), so that the
  // difference between entries is the sensor modules alone.
  var h = { clock: new DeviceClock(), io: new I2CRegisterIO(i2cBus(4, 5), 0x76), pins: new BenchDHTPins(), parts: { sensor: undefined, filters: undefined } as BenchParts };
  // Espruino builds a built-in's prototype objects in RAM the first time it is used (Array, Number, Math,
  // Error: ~2-8 JsVars each, for good). The rest of the firmware uses all of these anyway (arrays
  // everywhere, toFixed in the publisher, Math.random, errors), and every I2C read returns a new
  // Uint8Array: use them here so that they count in every entry, not in the sensor modules.
  h.io.read(0xd0, new Uint8Array(1));
  warm = [Math.round(1.5), (1.5).toFixed(1), String(new Error("x")), Date.now()];
  warm.push(0);
  warm = [];
  h.parts = make(h.clock, h.io, h.pins);
  var n = 0;
  function done(err: Error | null, s?: Sample): void {
    var f = h.parts.filters;
    if (err || !s || !f) return console.log("error " + (err ? err.message : "no sample"));
    var t = f.push(0, s.temperature);
    var hu = f.push(1, s.humidity);
    var p = f.push(2, s.pressure);
    if (n++ % 5 === 0) console.log("pub " + t + " " + hu + " " + p);
  }
  setInterval(function () {
    if (h.parts.sensor) h.parts.sensor.sample(done);
  }, 2000);
}
