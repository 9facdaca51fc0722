/*
 * Memory entry: one DHT22 (fake pins replaying a frame, see sensors-harness.ts) and its filter chains
 * (2 quantities, average 1), read every 2 s, built as in bench/mem/sensors.ts. Subtract
 * bench/mem/sensors-base.ts.
 */
import { bench, type BenchParts, type BenchDHTPins } from "./sensors-harness";
import { createDHT22 } from "../../firmware/sensors/dht22";
import { createSensorFilters } from "../../firmware/filters";
import type { Clock, RegisterIO, Sensor } from "../../firmware/types";

/* The driver is built as firmware/main.ts makeSensor builds it: a module-level function returning it. */
function makeSensor(clock: Clock, pins: BenchDHTPins): Sensor {
  return createDHT22({ pin: 4, pins: pins, clock: clock });
}

function parts(clock: Clock, io: RegisterIO, pins: BenchDHTPins): BenchParts {
  return {
    sensor: /*#__NOINLINE__*/ makeSensor(clock, pins),
    filters: createSensorFilters({
      type: "dht22", name: "s", address: 0, pin: 4, sda: -1, scl: -1, intervalSeconds: 2, average: 1, heartbeatSeconds: 300,
      offset: { temperature: 0, humidity: 0, pressure: 0 }, delta: { temperature: 0, humidity: 0, pressure: 0 }, decimals: { temperature: 1, humidity: 0, pressure: 1 }
    }, clock)
  };
}

/*#__NOINLINE__*/ bench(parts);
