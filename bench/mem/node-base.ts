/*
 * Baseline for bench/mem/node.ts: the same config validation, stand-ins (client, pump, sensor driver) and
 * script, and the filter chains the node would build, without the node's modules.
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/node-base.ts bench/mem/node-config.json
 */
import { validateConfig } from "../../firmware/config";
import { createSensorFilters } from "../../firmware/filters";
import type { Clock } from "../../firmware/types";
import { StubClient, StubPump, stubSensor, drive } from "./node-harness";

declare function setTimeout(fn: () => void, ms: number): any;
declare function clearTimeout(id: any): void;

function boot(): void {
  var cfg = validateConfig(require("Storage").readJSON("config.json", true), "LINUX").config!;
  var clock: Clock = { now: Date.now, setTimeout: setTimeout, clearTimeout: clearTimeout };
  var client = new StubClient(null, "home/bench1/status");
  var events = { onChange: function () {}, onRefused: function () {}, onInterlock: function () {} };
  var sensor = stubSensor(clock, null);
  (E as any).bench = [client, new StubPump(events, []), sensor, createSensorFilters(cfg.sensors[0], clock)];
  client.start();
  /*@__NOINLINE__*/ drive(client, "home/bench1/");
}

boot();
