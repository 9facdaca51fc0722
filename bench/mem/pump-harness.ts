/*
 * Shared driver for the pump memory benchmark (bench/mem/pump.ts and its baseline bench/mem/pump-base.ts).
 * Builds what firmware/main.ts builds around the pump (DeviceClock, DeviceOutputPin, one input per
 * interlock, an events object), lets `make` construct the pump (or nothing, for the baseline), then drives
 * it every 100 ms with a fixed script: valid and invalid commands, retained ones, link loss, sensor readings,
 * interlock edges, and runs ended by time or by the duty cycle. pump.ts minus pump-base.ts is the pump's cost.
 *
 * The Linux interpreter has no GPIO edges, so each input wraps a real DeviceInputPin (the real setWatch is
 * armed, as on the device) and its level is driven from here: set() calls the pump's watch callback.
 *
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump-base.ts
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/pump.ts
 * pump.ts's steady figure minus pump-base.ts's is what the pump modules cost. Add bench/mem/pump-nowatch.json
 * to the pump-base.ts run to leave the inputs unwatched in the baseline: the difference then also counts
 * the platform's cost of the two watches the pump sets.
 */
import type { Clock, InputPin, OutputPin } from "../../firmware/types";
import type { PumpEvents } from "../../firmware/pump/pump";
import { DeviceClock, DeviceInputPin, DeviceOutputPin } from "../../firmware/platform";

declare function setInterval(fn: () => void, ms: number): any;
declare var process: any;

/** What the harness calls on the pump (firmware/node/node.ts's PumpPort). */
export interface BenchPump {
  on: boolean;
  command(payload: string, retained: boolean): void;
  linkUp(): void;
  linkDown(): void;
  sensorOk(name: string): void;
  attributes(): string;
}

class BenchInput implements InputPin {
  level: number;
  cb: ((level: number) => void) | null;
  dev: DeviceInputPin;
  constructor(pin: number) {
    this.dev = new DeviceInputPin(pin, "down");
    this.level = 0;
    this.cb = null;
  }
  read(): number {
    return this.level;
  }
  watch(cb: (level: number) => void): any {
    this.cb = cb;
    return this.dev.watch(cb);
  }
  unwatch(h: any): void {
    this.dev.unwatch(h);
  }
  set(l: number): void {
    this.level = l;
    if (this.cb) this.cb(l);
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
  var inputs = [new BenchInput(22), new BenchInput(27)];
  var counts = [0, 0, 0];
  var events: PumpEvents = {
    onChange: function (on: boolean, reason: string) {
      counts[0]++;
      if (pump) pump.attributes();
      if (counts[0] % 8 === 1) console.log("pump " + (on ? "ON " : "OFF ") + reason);
    },
    onRefused: function (message: string) {
      counts[1]++;
      if (pump) pump.attributes();
      if (counts[1] % 8 === 1) console.log("refused: " + message);
    },
    onInterlock: function (name: string, active: boolean) {
      counts[2]++;
      if (counts[2] % 4 === 1) console.log("interlock " + name + " " + active);
    }
  };
  var pump = make(relay, inputs, clock, events);
  // The baseline watches the inputs too (a no-op callback), so that what a watch costs in the platform
  // (Espruino's setWatch entry, DeviceInputPin's wrapper closure) is in both runs; with config.json
  // {"baseWatches": false} it does not, and the difference is everything the pump makes the firmware hold.
  var cfg = require("Storage").readJSON("config.json", true);
  if (!pump && !(cfg && cfg.baseWatches === false)) {
    for (var i = 0; i < inputs.length; i++) inputs[i].watch(function () {});
  }
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
      console.log("loop " + ++loops + ": JsVars " + process.memory().usage + ", events " + counts.join(" ") + (pump ? " " + pump.attributes() : ""));
    }
    if (!pump || s === "") return;
    if (s === "link1") pump.linkUp();
    else if (s === "link0") pump.linkDown();
    else if (s === "air") pump.sensorOk("air");
    else if (s.substr(0, 4) === "lock") inputs[+s.charAt(4)].set(+s.charAt(6));
    else if (s.substr(0, 2) === "R:") pump.command(s.substr(2), true);
    else pump.command(s, false);
  }, 100);
}
