/*
 * BMP280 driver: temperature and pressure over a RegisterIO, forced mode.
 * Bosch Sensortec BST-BMP280-DS001 rev 1.19+,
 * https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
 * Chip id 0xD0 reads 0x58 on production parts (section 4.3.1); 0x56 and 0x57 (engineering samples) are
 * accepted too. Options, configure fields and units: see the tables in bosch.ts (humidityOversampling is
 * refused: the BMP280 has no humidity sensor).
 *
 * | sample property | unit |
 * | --------------- | ---- |
 * | temperature     | degC |
 * | pressure        | Pa   |
 */
import { BoschSensor, type BoschOptions } from "./bosch";

export class BMP280 extends BoschSensor {
  /** Throws "BMP280 at 0x76: chip id 0x60, expected 0x58 (is it a BME280?)" and the like. */
  constructor(options: BoschOptions) {
    super("BMP280", false, options);
  }
}
