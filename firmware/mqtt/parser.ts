/*
 * MQTT 3.1.1 incremental parser: one function fed byte strings as they arrive. It frames packets (fixed
 * header, remaining length of 1 to 4 bytes, body) and hands each one whole to the sink's _on(first byte,
 * body). A packet split over many feeds and many packets in one feed are the normal case: the bytes of an
 * unfinished packet wait in _pb for the next feed, and a whole packet's body is taken with one substring.
 *
 * Memory (ESP8266, 1600 JsVars): every function object and every field costs JsVars for as long as the
 * firmware runs, so the parser is one function and keeps its state in two fields of the sink (the MQTT
 * client), not in a parser object with methods of its own. The client calls it from one place (its _on,
 * for LINK_DATA), so the minifier inlines it there: in the bundle it is no function object at all.
 *
 * Checked here, before any body byte is kept (section 2.2): unknown type (0, 15), reserved flag bits
 * (0010 for PUBREL/SUBSCRIBE/UNSUBSCRIBE, 0000 for the others), PUBLISH QoS 3, a 5th remaining-length
 * byte. A packet whose remaining length is over _pmax is reported (P_SKIPPED) and skipped without being
 * buffered. After any other error (P_FATAL) the parser stops: the caller closes the link.
 * Body contents (ids, topics, lengths per type) are the client's business.
 *
 * The sink starts and stops the parser through _pn: deleted to (re)start on a new link, P_STOPPED (and _pb
 * deleted) to ignore everything that follows, also the rest of a feed() in progress. While framing, _pn
 * is unset (an unset field costs no JsVar, a 0 one).
 */
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE } from "./packet";

/** _pn of a stopped parser. */
export const P_STOPPED = -1;

/* _on() codes for errors (after the link's LINK_* codes, firmware/types.ts); a packet comes with its first
   byte instead, which is always >= 16. */
/** Malformed input; the parser stopped (s: the message). */
export const P_FATAL = 4;
/** A packet over _pmax bytes was skipped; parsing goes on (s: the message). */
export const P_SKIPPED = 5;

/** Default largest remaining length accepted (the client's maxPacketBytes). */
export const MAX_PACKET_BYTES = 2048;

/** What the parser works on: its state fields and where packets and errors go (the client implements it). */
export interface Framer {
  /** Bytes of a packet not yet whole (from its first byte on); unset when none. */
  _pb?: string;
  /** Unset (or 0) when framing, > 0: bytes of a skipped packet still to drop, P_STOPPED: stopped. */
  _pn?: number;
  /** Largest remaining length accepted; unset: MAX_PACKET_BYTES. */
  _pmax?: number;
  /** A whole packet (code = its first byte, s = its body), or P_FATAL / P_SKIPPED with a message. */
  _on(code: number, s?: string): void;
}

/** Parse bytes as they came from the link. Packets and errors go to f._on() before this returns. */
export function feed(f: Framer, data: string): void {
  if (f._pn === P_STOPPED) return;
  var max = f._pmax || MAX_PACKET_BYTES;
  var b = f._pb ? f._pb + data : data;
  var n = b.length;
  var i = 0;
  var err = "";
  while (i < n) {
    var skip = f._pn || 0;
    if (skip > 0) {
      // Dropping a packet over the limit, as it arrives.
      var k = n - i < skip ? n - i : skip;
      i += k;
      if (skip > k) f._pn = skip - k;
      else delete f._pn;
      continue;
    }
    // Section 2.2.2, table 2.2: fixed flags per type; PUBLISH carries DUP, QoS (0..2) and RETAIN.
    var h = b.charCodeAt(i);
    var type = h >> 4;
    var flags = h & 15;
    if (type === 0 || type === 15) err = "unknown packet type " + type;
    else if (type === PUBLISH) err = (flags & 6) === 6 ? "PUBLISH with QoS 3" : "";
    else if (flags !== (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0)) err = "bad flags " + flags + " for packet type " + type;
    // Section 2.2.3: remaining length, 7 bits per byte, low group first, bit 7 = more follows; 1 to 4 bytes.
    var len = 0;
    var mul = 1;
    var j = i + 1;
    var c = 128;
    while (!err && c & 128 && j < n) {
      c = b.charCodeAt(j++);
      len += (c & 127) * mul;
      if (c & 128 && mul === 2097152) err = "bad remaining length (5th continuation byte)";
      mul *= 128;
    }
    if (err) {
      f._pn = P_STOPPED;
      delete f._pb;
      return f._on(P_FATAL, err);
    }
    if (c & 128) break; // the remaining length goes on in the next feed
    if (len > max) {
      f._pn = len;
      i = j;
      f._on(P_SKIPPED, "packet of " + len + " bytes is over the " + max + "-byte limit (skipped)");
      if (f._pn === P_STOPPED) return; // the sink stopped the parser
    } else {
      if (n - j < len) break; // the body goes on in the next feed
      i = j + len;
      f._on(h, b.substring(j, i));
      if (f._pn === P_STOPPED) return; // the sink stopped the parser
    }
  }
  // An unset field costs no JsVar; "" would cost two.
  if (i < n) f._pb = b.substring(i);
  else delete f._pb;
}
