/*
 * MQTT 3.1.1 generator, the part every packet shares: the remaining length of the fixed header (section
 * 2.2.3). The client spells each packet where it sends it, as one byte string (one char per byte, as
 * Espruino sockets take them): the first byte (type << 4 | flags), then the fields in the order section 3
 * gives for that type (packet id as 2 bytes, a topic as its 2-byte length then its bytes, section 1.5.3,
 * the payload as it is); frame() puts the remaining length after the first byte. Server-only packets
 * (CONNACK, SUBACK, ...) are not generated here; tests build those by hand.
 *
 * Memory (ESP8266): frame() is called from one place only (the client's _on, when it writes a packet), so
 * the minifier inlines it there and it is no function object of its own. The encoder it replaces, one
 * function taking (first byte, packet id, topic, tail), held 8 JsVars for as long as the firmware ran.
 */
import { MAX_REMAINING } from "./packet";

/** PINGREQ (section 3.12) as frame() takes it: first byte 0xC0, no body. */
export const PINGREQ_PACKET = "\xC0";
/** DISCONNECT (section 3.14) as frame() takes it: first byte 0xE0, no body. */
export const DISCONNECT_PACKET = "\xE0";

/**
 * A packet given as its first byte then its body, returned with the remaining length between the two:
 * 1 to 4 bytes, 7 bits each, low group first, bit 7 = more follows.
 * @throws Error for a body over 268,435,455 bytes
 */
export function frame(p: string): string {
  var n = p.length - 1;
  if (n > MAX_REMAINING) throw new Error("MQTT remaining length " + n + " is outside 0..268435455");
  var out = p.charAt(0);
  do {
    var b = n % 128;
    n = Math.floor(n / 128);
    out += String.fromCharCode(n > 0 ? b | 128 : b);
  } while (n > 0);
  return out + p.substring(1);
}
