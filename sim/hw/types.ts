/*
 * Contracts between the simulator's Espruino runtime (sim/runtime*) and its virtual parts (sim/hw/*).
 * The runtime routes the bundle's I2C and pin calls here with Espruino's semantics; the parts only model
 * the chips.
 */

/**
 * A virtual I2C chip. The runtime routes I2C.writeTo/readFrom for `address` here.
 * Throw an Error to simulate a bus failure (NACK, timeout): the runtime raises it in the bundle the way
 * Espruino does.
 */
export interface I2CDevice {
  address: number;
  /** writeTo(address, bytes): first byte sets the register pointer, the rest are written from there. */
  write(bytes: Uint8Array): void;
  /** readFrom(address, count): bytes from the register pointer, auto-incrementing. */
  read(count: number): Uint8Array;
}

/**
 * A virtual DHT22 on one pin. When the bundle ends its start pulse (pulls the line low >= 1 ms, then
 * releases it), the runtime asks for a frame and plays it back as edges on the pin with the datasheet's
 * timing (80 us low + 80 us high response; per bit 50 us low then ~26 us high for 0, ~70 us high for 1),
 * which the bundle sees through setWatch/digitalRead.
 */
export interface DHT22Device {
  pin: number;
  /** The 5 bytes (humidity x10, temperature x10 with sign bit, checksum), or null for no response. */
  frame(): Uint8Array | null;
}
