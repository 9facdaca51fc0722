/*
 * Memory entry: one BME280 and its filter chains (3 quantities, average 1), read every 2 s, wired as
 * firmware/main.ts does. `ESPRUINO_BIN=... npx tsx bench/memory.ts entry bench/mem/sensors.ts`; subtract
 * bench/mem/sensors-base.ts (same harness, no sensor) to get the sensor modules' own cost.
 */
import { bench } from "./sensors-harness";
import { BME280 } from "../../firmware/sensors/bme280";
import { SensorFilters } from "../../firmware/filters";

bench(function (clock, io) {
  var q = { temperature: 0, humidity: 0, pressure: 0 };
  var sc = { type: "bme280" as const, name: "s", address: 0x76, pin: -1, sda: 4, scl: 5, intervalSeconds: 2, average: 1, heartbeatSeconds: 300, offset: q, delta: q, decimals: { temperature: 1, humidity: 0, pressure: 1 } };
  return { sensor: new BME280({ io: io, clock: clock, address: 0x76 }), filters: new SensorFilters(sc, clock) };
});
