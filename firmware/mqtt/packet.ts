/*
 * MQTT 3.1.1 control packet types and the little byte helpers the generator and the parser share.
 * Packet layout: OASIS MQTT Version 3.1.1 (29 October 2014), section 2 (fixed header) and 3 (packets).
 * Plain numeric constants: terser folds them, nothing is built at run time.
 */

/* Control packet types, fixed header bits 7-4 (section 2.2.1, table 2.1). */
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/* PUBLISH fixed header flags (section 3.3.1). */
export const F_DUP = 8;
export const F_RETAIN = 1;

/** Largest remaining length 4 bytes can carry (section 2.2.3): 268,435,455. */
export const MAX_REMAINING = 268435455;

/** Big-endian 16-bit integer at pos of a byte string (section 1.5.2). */
export function readU16(s: string, pos: number): number {
  return (s.charCodeAt(pos) << 8) | s.charCodeAt(pos + 1);
}
