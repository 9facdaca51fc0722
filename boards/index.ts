/* Board lookup by id. Builds only the description asked for (see boards/types.ts). */
import type { BoardInfo } from "./types";
import { esp8266 } from "./esp8266";
import { d1mini } from "./d1mini";
import { esp32 } from "./esp32";
import { linux } from "./linux";

export const BOARD_IDS = "esp8266, d1mini, esp32, linux";

export function boardInfo(id: string): BoardInfo | undefined {
  switch (id) {
    case "esp8266": return esp8266();
    case "d1mini": return d1mini();
    case "esp32": return esp32();
    case "linux": return linux();
  }
  return undefined;
}

/**
 * Resolve a pin name from config to a GPIO number, or -1 when the board has no such pin. Boards with
 * silkscreen labels (ESP8266) take the label ("D5" is GPIO14 on a NodeMCU) or "GPIO14"; boards without
 * labels take "D14" or "GPIO14".
 */
export function resolvePin(board: BoardInfo, name: string): number {
  if (typeof name !== "string") return -1;
  var n = board.pins[name];
  if (typeof n === "number") return n;
  // "GPIO" or (on a board without labels) "D", then one or two digits. Code rather than a RegExp: the
  // first RegExp a program makes brings Espruino's RegExp class into RAM for good (~8 JsVars).
  var digits = name.indexOf("GPIO") === 0 ? name.substr(4) : name[0] === "D" && !Object.keys(board.pins).length ? name.substr(1) : "";
  if (!digits.length || digits.length > 2) return -1;
  for (var i = 0; i < digits.length; i++) if (!(digits[i] >= "0" && digits[i] <= "9")) return -1;
  n = parseInt(digits, 10);
  return board.inputs.indexOf(n) >= 0 || board.outputs.indexOf(n) >= 0 ? n : -1;
}

export type { BoardInfo };
