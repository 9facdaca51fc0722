/*
 * Wemos/LOLIN D1 mini (ESP-12F) on Espruino's ESP8266_4MB build. Labels as printed on the D1 mini.
 * The Wemos relay shield drives D1, which is also the default I2C SCL: with a BME280, move the relay.
 */
import type { BoardInfo } from "./types";

export function d1mini(): BoardInfo {
  return {
    id: "d1mini",
    name: "Wemos D1 mini (ESP8266)",
    espruino: "ESP8266_4MB",
    cliBoardFile: "boards/ESP8266_4MB.json",
    jsVars: 1600,
    tls: false,
    wifi: true,
    pins: { D0: 16, D1: 5, D2: 4, D3: 0, D4: 2, D5: 14, D6: 12, D7: 13, D8: 15, RX: 3, TX: 1 },
    outputs: [4, 5, 12, 13, 14, 16],
    inputs: [0, 2, 4, 5, 12, 13, 14, 15, 16],
    i2c: { sda: "D2", scl: "D1" },
    relay: "D5",
    led: { pin: "D4", activeLow: true },
    maxBundleBytes: 96000,
    notes: "Relay on D5 (GPIO14); I2C SDA D2 (GPIO4), SCL D1 (GPIO5); interlocks on D6/D7. The relay shield uses D1: rewire it when a BME280 is on I2C."
  };
}
