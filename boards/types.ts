/*
 * What the firmware, flash.sh and the simulator need to know about a board. Each board file returns a
 * fresh object from a function, so the firmware bundle keeps the tables in flash and only builds the one
 * in use, at boot, for as long as the pins are being resolved.
 */
export interface BoardInfo {
  /** Our id, as in config.json "board" and `flash.sh --board`. */
  id: string;
  /** Human name for messages and Home Assistant's device model. */
  name: string;
  /** process.env.BOARD on the device (Espruino's own build name). */
  espruino: string;
  /** Board JSON for the Espruino CLI, relative to the repo root (used offline). */
  cliBoardFile: string;
  /** JsVars the Espruino build has in all (0: resizable). */
  jsVars: number;
  /** Whether require("tls") exists in Espruino's build for this board. */
  tls: boolean;
  /** Whether require("Wifi") exists (the Linux build's network is up already). */
  wifi: boolean;
  /** Silkscreen label -> Espruino pin number (GPIO); "GPIOn" and "Dn" name GPIO n directly where valid. */
  pins: Record<string, number>;
  /** GPIOs that may be used as outputs (no flash, no input-only pins). */
  outputs: number[];
  /** GPIOs that may be used as inputs. */
  inputs: number[];
  /** Default I2C pins (labels). */
  i2c: { sda: string; scl: string };
  /** A pin that is free for the relay on a bare board (label). */
  relay: string;
  /** On-board LED, or null. */
  led: { pin: string; activeLow: boolean } | null;
  /** The largest firmware bundle we let flash.sh upload to this board, in bytes. */
  maxBundleBytes: number;
  /** Free-text wiring notes shown by flash.sh --help and README. */
  notes: string;
}
