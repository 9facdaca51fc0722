/*
 * MQTT 3.1.1 generator: every packet this client sends, each built in one pass into one byte string
 * (one char per byte, as Espruino sockets take them). Strings given here are already byte strings, so a
 * string's length is its byte length (section 1.5.3: 2-byte length, then the bytes).
 * Server-only packets (CONNACK, SUBACK, ...) are not generated here; tests build those by hand.
 */
import type { MqttOptions } from "./client";
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE, MAX_REMAINING } from "./packet";

/** PINGREQ (section 3.12): header 0xC0, remaining length 0. */
export const PINGREQ_PACKET = "\xC0\x00";
/** DISCONNECT (section 3.14): header 0xE0, remaining length 0. */
export const DISCONNECT_PACKET = "\xE0\x00";

/** Two bytes, big-endian. */
export function u16(n: number): string {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}

/** A UTF-8 string field (section 1.5.3): 2-byte length then the bytes. Throws past 65535 bytes. */
export function str(s: string): string {
  if (s.length > 65535) throw new Error("MQTT string of " + s.length + " bytes is over 65535");
  return u16(s.length) + s;
}

/**
 * Remaining length (section 2.2.3): 7 bits per byte, low group first, bit 7 = more follows; 1 to 4 bytes.
 * Throws past 268,435,455.
 */
export function remainingLength(n: number): string {
  if (n < 0 || n > MAX_REMAINING) throw new Error("MQTT remaining length " + n + " is outside 0..268435455");
  var out = "";
  do {
    var b = n % 128;
    n = Math.floor(n / 128);
    out += String.fromCharCode(n > 0 ? b | 128 : b);
  } while (n > 0);
  return out;
}

function frame(header: number, body: string): string {
  return String.fromCharCode(header) + remainingLength(body.length) + body;
}

/**
 * CONNECT (section 3.1): protocol "MQTT" level 4, flags, keepalive, client id, then Will topic/payload,
 * user name and password when present. An empty username/password is not sent.
 */
export function encodeConnect(o: MqttOptions): string {
  var flags = o.cleanSession ? 2 : 0;
  var tail = str(o.clientId);
  var w = o.will;
  if (w) {
    flags |= 4 | (w.qos << 3) | (w.retain ? 32 : 0);
    tail += str(w.topic) + str(w.payload);
  }
  if (o.username) {
    flags |= 128;
    tail += str(o.username);
  }
  if (o.password) {
    flags |= 64;
    tail += str(o.password);
  }
  return frame(0x10, "\x00\x04MQTT\x04" + String.fromCharCode(flags) + u16(o.keepaliveSeconds) + tail);
}

/**
 * PUBLISH (section 3.3). id is the packet id (1..65535) for QoS 1 and 2, ignored for QoS 0.
 * The header and lengths are computed first so the packet is one concatenation.
 */
export function encodePublish(topic: string, payload: string, qos: number, retain: boolean, dup: boolean, id: number): string {
  var len = 2 + topic.length + (qos ? 2 : 0) + payload.length;
  if (topic.length > 65535) throw new Error("MQTT topic of " + topic.length + " bytes is over 65535");
  return String.fromCharCode((PUBLISH << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0)) + remainingLength(len) + u16(topic.length) + topic + (qos ? u16(id) : "") + payload;
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP (sections 3.4-3.7): type, then packet id. PUBREL has flags 0010. */
export function encodeAck(type: number, id: number): string {
  return String.fromCharCode((type << 4) | (type === PUBREL ? 2 : 0), 2, (id >> 8) & 255, id & 255);
}

/** SUBSCRIBE (section 3.8) for one topic filter; header flags are 0010. */
export function encodeSubscribe(id: number, topic: string, qos: number): string {
  return frame((SUBSCRIBE << 4) | 2, u16(id) + str(topic) + String.fromCharCode(qos));
}

/** UNSUBSCRIBE (section 3.10) for one topic filter; header flags are 0010. */
export function encodeUnsubscribe(id: number, topic: string): string {
  return frame((UNSUBSCRIBE << 4) | 2, u16(id) + str(topic));
}
