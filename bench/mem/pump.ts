/*
 * Memory of the pump (firmware/pump/: Pump, command validator, duty window) on a real Espruino, the way
 * firmware/main.ts wires it: two interlocks and a duty cycle, driven by bench/mem/pump-harness.ts's script.
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump.ts
 * The pump's cost is this run's steady state minus bench/mem/pump-base.ts's (same harness, no pump).
 * The config object is built inside the factory, so whatever the pump does not keep of it is garbage.
 * Measured on espruino1600 (2v29, 12-byte JsVars): pump.ts steady 310, pump-base.ts 207: 103 JsVars for
 * the pump with its poll timer (of which the duty window's Float64Array ~18, the last refusal's message
 * ~7). Before the interlocks were polled (d3cd049: watched inputs, a prototype of eight methods, a
 * constructor): 476 against 278 for a baseline without watches, 198.
 */
import { Pump } from "../../firmware/pump/pump";
import { harness } from "./pump-harness";

harness(function (relay, inputs, clock, events) {
  return Pump(
    {
      pin: 17, activeLow: false, maxRunSeconds: 600, minOffSeconds: 1, linkLostOffSeconds: 30,
      interlocks: [{ name: "tank_full", pin: 22, activeLevel: 1, pull: "down" }, { name: "people_present", pin: 27, activeLevel: 1, pull: "down" }],
      dutyCycle: { maxRunSeconds: 20, windowMinutes: 1 },
      requires: null
    },
    relay, inputs, clock, events
  );
});
