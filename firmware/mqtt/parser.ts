/*
 * MQTT 3.1.1 incremental parser: one function fed byte strings as they arrive. It frames packets (fixed
 * header, remaining length of 1 to 4 bytes, body) and hands each one whole to the sink's _on(header byte,
 * body). A packet split over many feeds and many packets in one feed are the normal case; body bytes are
 * taken a slice at a time, never byte by byte.
 *
 * Memory (ESP8266, 1600 JsVars): every function object costs about 6 JsVars for as long as the firmware
 * runs, so the parser is one function and keeps its state in the sink's own fields (the MQTT client's),
 * not in a parser object with methods of its own.
 *
 * Checked here, before any body byte is buffered (section 2.2): unknown type (0, 15), reserved flag bits
 * (0010 for PUBREL/SUBSCRIBE/UNSUBSCRIBE, 0000 for the others), PUBLISH QoS 3, a 5th remaining-length
 * byte. A packet whose remaining length is over _pmax is reported (P_SKIPPED) and skipped without being
 * buffered. After any other error (P_FATAL) the parser stops: the caller closes the link.
 * Body contents (ids, topics, lengths per type) are the client's business.
 *
 * The sink starts and stops the parser through _ps: P_HEADER (with _pb = "") to (re)start on a new link,
 * P_STOPPED to ignore everything that follows, also the rest of a feed() in progress.
 */
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE } from "./packet";

/* Parser states (_ps). */
export const P_HEADER = 0;
export const P_LENGTH = 1;
export const P_BODY = 2;
export const P_SKIP = 3;
export const P_STOPPED = 4;

/* _on() codes for errors; a packet comes with its first byte instead, which is always >= 16. */
/** Malformed input; the parser stopped (s: the message). */
export const P_FATAL = 1;
/** A packet over _pmax bytes was skipped; parsing goes on (s: the message). */
export const P_SKIPPED = 2;

/** Default largest remaining length accepted (the client's maxPacketBytes). */
export const MAX_PACKET_BYTES = 2048;

/** What the parser works on: its state fields and where packets and errors go (the client implements it). */
export interface Framer {
  /** State: P_HEADER, P_LENGTH, P_BODY, P_SKIP or P_STOPPED. */
  _ps: number;
  /** First byte (type << 4 | flags) of the packet being read. */
  _ph: number;
  /** Remaining length of the packet being read. */
  _pl: number;
  /** P_LENGTH: weight of the next length byte (1, 128, ...); P_BODY/P_SKIP: body bytes still to come. */
  _pn: number;
  /** Body bytes so far. */
  _pb: string;
  /** Largest remaining length accepted; unset: MAX_PACKET_BYTES. */
  _pmax?: number;
  /** A whole packet (code = its first byte, s = its body), or P_FATAL / P_SKIPPED with a message. */
  _on(code: number, s?: string): void;
}

/** Parse bytes as they came from the link. Packets and errors go to f._on() before this returns. */
export function feed(f: Framer, data: string): void {
  var n = data.length;
  var i = 0;
  var max = f._pmax || MAX_PACKET_BYTES;
  while (i < n) {
    var st = f._ps;
    if (st === P_HEADER) {
      var h = data.charCodeAt(i++);
      var type = h >> 4;
      var flags = h & 15;
      // Section 2.2.2, table 2.2: fixed flags per type; PUBLISH carries DUP, QoS (0..2) and RETAIN.
      var err = "";
      if (type === 0 || type === 15) err = "unknown packet type " + type;
      else if (type === PUBLISH) err = (flags & 6) === 6 ? "PUBLISH with QoS 3" : "";
      else if (flags !== (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0)) err = "bad flags " + flags + " for packet type " + type;
      if (err) {
        f._ps = P_STOPPED;
        f._pb = "";
        return f._on(P_FATAL, err);
      }
      f._ph = h;
      f._pl = 0;
      f._pn = 1;
      f._ps = P_LENGTH;
    } else if (st === P_LENGTH) {
      var c = data.charCodeAt(i++);
      f._pl += (c & 127) * f._pn;
      if (c & 128) {
        // Section 2.2.3: at most 4 bytes, so a continuation bit on the 4th is malformed.
        if (f._pn === 2097152) {
          f._ps = P_STOPPED;
          return f._on(P_FATAL, "bad remaining length (5th continuation byte)");
        }
        f._pn *= 128;
      } else if (f._pl > max) {
        f._ps = P_SKIP;
        f._pn = f._pl;
        f._on(P_SKIPPED, "packet of " + f._pl + " bytes is over the " + max + "-byte limit (skipped)");
      } else if (f._pl === 0) {
        f._ps = P_HEADER;
        f._on(f._ph, "");
      } else {
        f._ps = P_BODY;
        f._pn = f._pl;
      }
    } else if (st === P_STOPPED) {
      return;
    } else {
      var take = n - i < f._pn ? n - i : f._pn;
      if (st === P_BODY) f._pb += data.substring(i, i + take);
      i += take;
      f._pn -= take;
      if (f._pn === 0) {
        // Back to P_HEADER before the sink sees the packet, so the sink may stop the parser from there.
        f._ps = P_HEADER;
        if (st === P_BODY) {
          var body = f._pb;
          f._pb = "";
          f._on(f._ph, body);
        }
      }
    }
  }
}
