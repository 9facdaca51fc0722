/*
 * BME280 driver: temperature, pressure and humidity over a RegisterIO, forced mode.
 * Bosch Sensortec BST-BME280-DS002 rev 1.6,
 * https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bme280-ds002.pdf
 * Chip id 0xD0 must read 0x60 (section 5.4.1). Options, configure fields and sample units: see the tables
 * in bosch.ts (shared with the BMP280).
 *
 *   var s = new BME280({ io: io, clock: clock, address: 0x76 });
 *   s.sample(function (err, v) { ... v.temperature degC, v.pressure Pa, v.humidity %RH ... });
 *
 * | sample property | unit |
 * | --------------- | ---- |
 * | temperature     | degC |
 * | pressure        | Pa   |
 * | humidity        | %RH  |
 */
import { BoschSensor, type BoschOptions } from "./bosch";

export class BME280 extends BoschSensor {
  /** Throws "BME280 at 0x76: chip id 0x58, expected 0x60 (is it a BMP280?)" and the like. */
  constructor(options: BoschOptions) {
    super("BME280", true, options);
  }
}
