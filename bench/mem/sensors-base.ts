/*
 * Memory entry: the sensor harness alone (bench/mem/sensors-harness.ts: clock, fake I2C register file,
 * fake DHT pins, 2 s timer), no driver, no filters. Its steady figure is subtracted from sensors.ts and
 * sensors-dht22.ts.
 */
import { bench } from "./sensors-harness";

bench(function () {
  return null;
});
