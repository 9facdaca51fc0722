/*
 * MQTT 3.1.1 generator: one function builds every packet this client sends with a packet id or a topic
 * (PUBLISH, SUBSCRIBE, UNSUBSCRIBE; CONNECT passes its ready body as the tail), in one byte string (one
 * char per byte, as Espruino sockets take them). Strings given here are already byte strings, so a
 * string's length is its byte length (section 1.5.3: 2-byte length, then the bytes).
 * Fixed 2- and 4-byte packets (PINGREQ, DISCONNECT, PUBACK, PUBREC, PUBCOMP) are written by the client
 * directly. Server-only packets (CONNACK, SUBACK, ...) are not generated here; tests build those by hand.
 *
 * Memory (ESP8266): one function instead of an encoder per packet type, because each function object
 * costs about 5 JsVars + 1 per parameter for as long as the firmware runs.
 */
import { PUBLISH, MAX_REMAINING } from "./packet";

/** PINGREQ (section 3.12): header 0xC0, remaining length 0. */
export const PINGREQ_PACKET = "\xC0\x00";
/** DISCONNECT (section 3.14): header 0xE0, remaining length 0. */
export const DISCONNECT_PACKET = "\xE0\x00";

/**
 * One packet: first byte h (type << 4 | flags), the remaining length, then the fields in the order the
 * type puts them: PUBLISH (section 3.3) topic, packet id, tail (the payload); any other type packet id,
 * topic, tail (SUBSCRIBE section 3.8: tail = the requested QoS byte; UNSUBSCRIBE section 3.10: no tail).
 * @param id packet id 1..65535, or 0 for none (PUBLISH QoS 0, CONNECT)
 * @param topic topic or filter, sent as a 2-byte length then its bytes; "" for none (a PUBLISH always has one)
 * @param tail bytes after the other fields, sent as they are
 * @throws Error for a topic over 65535 bytes or a packet over 268,435,455 bytes (section 2.2.3)
 */
export function encode(h: number, id: number, topic: string, tail: string): string {
  var tl = topic.length;
  if (tl > 65535) throw new Error("MQTT topic of " + tl + " bytes is over 65535");
  var t = tl || h >> 4 === PUBLISH ? String.fromCharCode(tl >> 8, tl & 255) + topic : "";
  var i = id ? String.fromCharCode(id >> 8, id & 255) : "";
  var n = t.length + i.length + tail.length;
  if (n > MAX_REMAINING) throw new Error("MQTT remaining length " + n + " is outside 0..268435455");
  // Remaining length (section 2.2.3): 7 bits per byte, low group first, bit 7 = more follows; 1 to 4 bytes.
  var out = String.fromCharCode(h);
  do {
    var b = n % 128;
    n = Math.floor(n / 128);
    out += String.fromCharCode(n > 0 ? b | 128 : b);
  } while (n > 0);
  return out + (h >> 4 === PUBLISH ? t + i : i + t) + tail;
}
