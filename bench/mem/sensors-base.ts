/*
 * Memory entry: the sensor harness alone (bench/mem/sensors-harness.ts: clock, fake I2C register file,
 * fake DHT pins, 2 s timer), no driver, no filters. Its steady figure is subtracted from sensors.ts and
 * sensors-dht22.ts, whose parts() has the same shape.
 */
import { bench, type BenchParts } from "./sensors-harness";
import type { Clock, RegisterIO, Sensor } from "../../firmware/types";

/* Same shapes as the other entries' makeSensor and parts, building nothing. */
function makeSensor(clock: Clock, io: RegisterIO): Sensor | undefined {
  return clock && io ? undefined : undefined;
}

function parts(clock: Clock, io: RegisterIO): BenchParts {
  return { sensor: /*#__NOINLINE__*/ makeSensor(clock, io), filters: io ? undefined : undefined };
}

/*#__NOINLINE__*/ bench(parts);
