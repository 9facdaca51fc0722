/*
 * Memory entry: one BME280 and its filter chains (3 quantities, average 1), read every 2 s, wired as
 * firmware/main.ts does. `ESPRUINO_BIN=... npx tsx bench/memory.ts entry bench/mem/sensors.ts`; subtract
 * bench/mem/sensors-base.ts (same harness, no sensor) to get the sensor modules' own cost.
 */
import { bench, type BenchParts } from "./sensors-harness";
import { createBoschSensor } from "../../firmware/sensors/bosch";
import { createSensorFilters } from "../../firmware/filters";
import type { Clock, RegisterIO, Sensor } from "../../firmware/types";

/* The driver is built as firmware/main.ts makeSensor builds it: a module-level function returning it. */
function makeSensor(clock: Clock, io: RegisterIO): Sensor {
  return createBoschSensor("bme280", { io: io, clock: clock, address: 0x76 });
}

/* The filters as node.ts builds them, from config.json's sensor entry (here a literal: no variable, which
 * the minifier could hoist into a long-lived scope). */
function parts(clock: Clock, io: RegisterIO): BenchParts {
  return {
    sensor: /*#__NOINLINE__*/ makeSensor(clock, io),
    filters: createSensorFilters({
      type: "bme280", name: "s", address: 0x76, pin: -1, sda: 4, scl: 5, intervalSeconds: 2, average: 1, heartbeatSeconds: 300,
      offset: { temperature: 0, humidity: 0, pressure: 0 }, delta: { temperature: 0, humidity: 0, pressure: 0 }, decimals: { temperature: 1, humidity: 0, pressure: 1 }
    }, clock)
  };
}

/*#__NOINLINE__*/ bench(parts);
