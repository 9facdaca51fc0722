/*
 * ESP8266 NodeMCU v1 (ESP-12E) on Espruino's ESP8266_4MB build. Labels as printed on the NodeMCU.
 * Espruino names pins by GPIO number (D14 is GPIO14), so labels are mapped here.
 * GPIO6-11 drive the SPI flash; GPIO0, 2 and 15 pick the boot mode (a relay there can stop the boot).
 */
import type { BoardInfo } from "./types";

export function esp8266(): BoardInfo {
  return {
    id: "esp8266",
    name: "NodeMCU v1 (ESP8266)",
    espruino: "ESP8266_4MB",
    cliBoardFile: "boards/ESP8266_4MB.json",
    jsVars: 1600,
    tls: false,
    wifi: true,
    pins: { D0: 16, D1: 5, D2: 4, D3: 0, D4: 2, D5: 14, D6: 12, D7: 13, D8: 15, RX: 3, TX: 1, SD2: 9, SD3: 10 },
    outputs: [4, 5, 12, 13, 14, 16],
    inputs: [0, 2, 4, 5, 12, 13, 14, 15, 16],
    i2c: { sda: "D2", scl: "D1" },
    relay: "D5",
    led: { pin: "D4", activeLow: true },
    maxBundleBytes: 96000,
    notes: "Relay on D5 (GPIO14); I2C SDA D2 (GPIO4), SCL D1 (GPIO5); interlocks on D6/D7 (GPIO12/13). Avoid D3, D4, D8 for the relay: they select the boot mode."
  };
}
