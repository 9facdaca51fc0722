/*
 * Boot: read config.json from Storage, validate it, then wire the node. A missing or invalid config is
 * printed field by field and the node stays idle with the pump held off: no crash, no network.
 */
import { validateConfig } from "./config";

function boot(): void {
  var raw: any;
  try {
    raw = require("Storage").readJSON("config.json", true);
  } catch (e) {
    raw = undefined;
  }
  if (raw === undefined) {
    console.log("config.json: missing or not valid JSON; upload one with flash.sh. Pump held off.");
    return;
  }
  var result = validateConfig(raw, process.env.BOARD);
  if (!result.config) {
    for (var i = 0; i < result.errors.length; i++) console.log("config.json: " + result.errors[i]);
    console.log("config.json: " + result.errors.length + " problem(s). Pump held off.");
    return;
  }
  console.log("config ok for " + result.config.device.id);
}

boot();
