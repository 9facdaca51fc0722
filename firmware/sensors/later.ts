/*
 * Deliver an error to a sample callback later, never from inside the call that started it (driver
 * contract, firmware/types.ts). Only for the rare refusal paths (busy, closed): it costs one closure,
 * which the normal read path avoids by using the driver's own bound handlers.
 */
import type { Clock, SampleCallback } from "../types";

export function failLater(clock: Clock, callback: SampleCallback, error: Error): void {
  clock.setTimeout(function () {
    callback(error);
  }, 0);
}

/** "0x76": addresses and chip ids in messages, the way the datasheets write them. */
export function hex(n: number): string {
  return "0x" + (n < 16 ? "0" : "") + n.toString(16);
}
