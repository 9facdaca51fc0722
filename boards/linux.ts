/*
 * Espruino's Linux build (Raspberry Pi and friends). The network is already up (no Wifi module);
 * pins are the Pi's BCM GPIO numbers.
 */
import type { BoardInfo } from "./types";

export function linux(): BoardInfo {
  return {
    id: "linux",
    name: "Espruino on Linux",
    espruino: "LINUX",
    cliBoardFile: "boards/LINUX.json",
    jsVars: 0,
    tls: true,
    wifi: false,
    pins: {},
    outputs: [4, 5, 6, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27],
    inputs: [2, 3, 4, 5, 6, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27],
    i2c: { sda: "D2", scl: "D3" },
    relay: "D17",
    led: null,
    maxBundleBytes: 1000000,
    notes: "Relay on D17 (BCM GPIO17); I2C SDA D2, SCL D3; interlocks on D22/D27."
  };
}
