/*
 * Wemos/LOLIN D1 mini (ESP-12F) on Espruino's ESP8266_4MB build. Same chip and labels as the NodeMCU
 * (boards/esp8266.ts) but no SD2/SD3 pins broken out. The Wemos relay shield drives D1, which is also the
 * default I2C SCL: with a BME280, move the relay.
 */
import type { BoardInfo } from "./types";
import { esp8266 } from "./esp8266";

export function d1mini(): BoardInfo {
  var b = esp8266();
  b.id = "d1mini";
  b.name = "Wemos D1 mini (ESP8266)";
  delete b.pins.SD2;
  delete b.pins.SD3;
  b.notes = "Relay on D5 (GPIO14); I2C SDA D2 (GPIO4), SCL D1 (GPIO5); interlocks on D6/D7. The relay shield uses D1: rewire it when a BME280 is on I2C.";
  return b;
}
