/*
 * Baseline for bench/mem/pump.ts: the same harness (clock, relay, inputs, events, driver) without the pump.
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump-base.ts
 */
import { harness } from "./pump-harness";

harness(function () {
  return null;
});
