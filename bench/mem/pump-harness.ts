/*
 * Shared driver for the pump memory benchmark (bench/mem/pump.ts and its baseline bench/mem/pump-base.ts).
 * Builds what firmware/main.ts builds around the pump (DeviceClock, DeviceOutputPin, one input per
 * interlock, an events object), lets `make` construct the pump (or nothing, for the baseline), then drives
 * it every 100 ms with a fixed script: valid and invalid commands, retained ones, link loss, sensor readings,
 * interlock changes, and runs ended by time or by the duty cycle. pump.ts minus pump-base.ts is the pump's cost.
 *
 * The pump polls its interlock inputs (read()); the Linux interpreter has no GPIO to drive, so each input
 * is a small object whose level the script sets. On the device an input is Espruino's Pin object, which
 * costs the firmware less than this stand-in; the stand-ins are in both runs, so they are not counted.
 *
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump-base.ts
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump.ts
 * pump.ts's steady figure minus pump-base.ts's is what the pump modules cost (its poll timer included).
 */
import type { Clock, InputPin, OutputPin } from "../../firmware/types";
import { P_ATTRIBUTES, P_COMMAND, P_LINK_DOWN, P_LINK_UP, P_SENSOR_OK, type Pump, type PumpEvents } from "../../firmware/pump/pump";
import { DeviceClock, DeviceOutputPin } from "../../firmware/platform";

declare function setInterval(fn: () => void, ms: number): any;
declare var process: any;

/** What the harness calls on the pump (firmware/node/node.ts's PumpPort). */
export type BenchPump = Pick<Pump, "on" | "io">;

class BenchInput implements InputPin {
  level: number;
  constructor() {
    this.level = 0;
  }
  read(): number {
    return this.level;
  }
}

// The script, one step per 100 ms, steps separated by "|" (an empty step does nothing): a payload; "R:" + a
// retained payload; "link0"/"link1"; "air" (a reading of the sensor); "lockN:L" (interlock N to level L).
// One string scanned in place, so the script itself costs the same few JsVars in both runs.
var SCRIPT = "link1|air|ON||{\"state\":\"ON\",\"seconds\":1}||air|||||||OFF|ON|junk \"payload\"|R:ON|||||||||||||" +
  "{\"state\":\"ON\",\"seconds\":2}|lock0:1||lock0:0||ON|{\"state\":\"ON\",\"seconds\":0.5}||||||||||||||ON|link0||link1|OFF|||||||||" +
  "||||||ON|lock1:1|||lock1:0|{\"state\":\"OFF\",\"seconds\":3}||||||||||||||||||||||||";

export function harness(make: (relay: OutputPin, inputs: InputPin[], clock: Clock, events: PumpEvents) => BenchPump | null): void {
  var clock = new DeviceClock();
  var relay = new DeviceOutputPin(17);
  relay.write(0);
  var inputs = [new BenchInput(), new BenchInput()];
  var counts = [0, 0, 0];
  var events: PumpEvents = {
    onChange: function (on: boolean, reason: string) {
      counts[0]++;
      if (pump) pump.io(P_ATTRIBUTES);
      if (counts[0] % 8 === 1) console.log("pump " + (on ? "ON " : "OFF ") + reason);
    },
    onRefused: function (message: string) {
      counts[1]++;
      if (pump) pump.io(P_ATTRIBUTES);
      if (counts[1] % 8 === 1) console.log("refused: " + message);
    },
    onInterlock: function (name: string, active: boolean) {
      counts[2]++;
      if (counts[2] % 4 === 1) console.log("interlock " + name + " " + active);
    }
  };
  var pump = make(relay, inputs, clock, events);
  // Kept where the minifier cannot drop them, in both runs (in the pump run the pump holds them too).
  (E as any).bench = [clock, relay, inputs, events, pump];
  var at = 0;
  var loops = 0;
  setInterval(function () {
    var end = SCRIPT.indexOf("|", at);
    if (end < 0) end = SCRIPT.length;
    var s = SCRIPT.substring(at, end);
    at = end + 1;
    if (at > SCRIPT.length) {
      at = 0;
      console.log("loop " + ++loops + ": JsVars " + process.memory().usage + ", events " + counts.join(" ") + (pump ? " " + pump.io(P_ATTRIBUTES) : ""));
    }
    if (!pump || s === "") return;
    if (s === "link1") pump.io(P_LINK_UP);
    else if (s === "link0") pump.io(P_LINK_DOWN);
    else if (s === "air") pump.io(P_SENSOR_OK, "air");
    else if (s.substr(0, 4) === "lock") inputs[+s.charAt(4)].level = +s.charAt(6);
    else if (s.substr(0, 2) === "R:") pump.io(P_COMMAND, s.substr(2), true);
    else pump.io(P_COMMAND, s, false);
  }, 100);
}
