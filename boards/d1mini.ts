/*
 * Wemos/LOLIN D1 mini (ESP-12F) on Espruino's ESP8266_4MB build. Same chip and labels as the NodeMCU
 * (boards/esp8266.ts) but no SD2/SD3 pins broken out. The Wemos relay shield drives D1, which is also the
 * default I2C SCL: with a BME280, move the relay.
 */
import type { BoardInfo } from "./types";
import { esp8266 } from "./esp8266";

export function d1mini(): BoardInfo {
  // One expression, no local variable: the minifier inlines this into boardInfo's switch, where a `var`
  // of its own would be declared only after the switch (Espruino does not hoist var). Not inlined, it
  // would stay on the device as a module-level function (~4 JsVars) after boot.
  return Object.assign(esp8266(), {
    id: "d1mini",
    name: "Wemos D1 mini (ESP8266)",
    // The NodeMCU's labels without SD2/SD3.
    pins: { D0: 16, D1: 5, D2: 4, D3: 0, D4: 2, D5: 14, D6: 12, D7: 13, D8: 15, RX: 3, TX: 1 },
    notes: "Relay on D5 (GPIO14); I2C SDA D2 (GPIO4), SCL D1 (GPIO5); interlocks on D6/D7. The relay shield uses D1: rewire it when a BME280 is on I2C."
  });
}
