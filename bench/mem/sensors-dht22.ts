/*
 * Memory entry: one DHT22 (fake pins replaying a frame, see sensors-harness.ts) and its filter chains
 * (2 quantities, average 1), read every 2 s. Subtract bench/mem/sensors-base.ts.
 */
import { bench } from "./sensors-harness";
import { DHT22 } from "../../firmware/sensors/dht22";
import { SensorFilters } from "../../firmware/filters";

bench(function (clock, io, pins) {
  var q = { temperature: 0, humidity: 0, pressure: 0 };
  var sc = { type: "dht22" as const, name: "s", address: 0, pin: 4, sda: -1, scl: -1, intervalSeconds: 2, average: 1, heartbeatSeconds: 300, offset: q, delta: q, decimals: { temperature: 1, humidity: 0, pressure: 1 } };
  return { sensor: new DHT22({ pin: 4, pins: pins, clock: clock }), filters: new SensorFilters(sc, clock) };
});
