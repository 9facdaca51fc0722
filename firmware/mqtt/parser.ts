/*
 * MQTT 3.1.1 incremental parser: a state machine fed byte strings as they arrive. It frames packets
 * (fixed header, remaining length of 1 to 4 bytes, body) and hands each one whole to a sink as
 * (header byte, body string). A packet split over many feeds and many packets in one feed are the
 * normal case; body bytes are taken a slice at a time, never byte by byte.
 *
 * Checked here, before any body byte is buffered (section 2.2): unknown type (0, 15), reserved flag
 * bits (0010 for PUBREL/SUBSCRIBE/UNSUBSCRIBE, 0000 for the others), PUBLISH QoS 3, a 5th
 * remaining-length byte. A packet whose remaining length is over the limit is reported and skipped
 * without being buffered. After any other error the parser stops until reset(): the caller closes the link.
 * Body contents (ids, topics, lengths per type) are the packet handlers' business.
 */
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE } from "./packet";

/** Where parsed packets and errors go. The client implements it; tests can too. */
export interface PacketSink {
  /** One whole packet: its first byte (type << 4 | flags) and its body (remaining-length bytes). */
  _onPacket(header: number, body: string): void;
  /** Bad input. fatal: the parser stopped (reset() to go on); otherwise a packet was skipped. */
  _onParseError(message: string, fatal: boolean): void;
}

const S_HEADER = 0;
const S_LENGTH = 1;
const S_BODY = 2;
const S_SKIP = 3;
const S_STOPPED = 4;

/** The error for a bad first byte, or "" when the type and flags are valid (section 2.2.2, table 2.2). */
export function headerError(h: number): string {
  var type = h >> 4;
  var flags = h & 15;
  if (type === 0 || type === 15) return "unknown packet type " + type;
  if (type === PUBLISH) return (flags & 6) === 6 ? "PUBLISH with QoS 3" : "";
  var want = type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0;
  return flags === want ? "" : "bad flags " + flags + " for packet type " + type;
}

export class Parser {
  private _sink: PacketSink;
  private _max: number;
  private _state = S_HEADER;
  private _hdr = 0;
  private _len = 0;
  private _mul = 1;
  private _need = 0;
  private _body = "";
  private _stop = false;

  /**
   * @param sink receives packets and errors, synchronously from feed()
   * @param maxBytes largest remaining length accepted; bigger packets are skipped and reported
   */
  constructor(sink: PacketSink, maxBytes: number) {
    this._sink = sink;
    this._max = maxBytes;
  }

  /** Forget any partial packet (new link). Also stops a feed() in progress (called from a sink). */
  reset(): void {
    this._state = S_HEADER;
    this._body = "";
    this._stop = true;
  }

  /** Parse bytes as they came from the link. Packets go to the sink before this returns. */
  feed(data: string): void {
    var n = data.length;
    var i = 0;
    this._stop = false;
    while (i < n && !this._stop) {
      var st = this._state;
      if (st === S_HEADER) {
        var h = data.charCodeAt(i++);
        var err = headerError(h);
        if (err) return this._fail(err);
        this._hdr = h;
        this._len = 0;
        this._mul = 1;
        this._state = S_LENGTH;
      } else if (st === S_LENGTH) {
        var c = data.charCodeAt(i++);
        this._len += (c & 127) * this._mul;
        if (c & 128) {
          // Section 2.2.3: at most 4 bytes, so a continuation bit on the 4th is malformed.
          if (this._mul === 2097152) return this._fail("bad remaining length (5th continuation byte)");
          this._mul *= 128;
        } else if (this._len > this._max) {
          this._state = S_SKIP;
          this._need = this._len;
          this._sink._onParseError("packet of " + this._len + " bytes is over the " + this._max + "-byte limit (skipped)", false);
        } else if (this._len === 0) {
          this._state = S_HEADER;
          this._sink._onPacket(this._hdr, "");
        } else {
          this._state = S_BODY;
          this._need = this._len;
        }
      } else if (st === S_STOPPED) {
        return;
      } else {
        var take = n - i < this._need ? n - i : this._need;
        if (st === S_BODY) this._body += data.substring(i, i + take);
        i += take;
        this._need -= take;
        if (this._need === 0) {
          this._state = S_HEADER;
          if (st === S_BODY) {
            var body = this._body;
            this._body = "";
            this._sink._onPacket(this._hdr, body);
          }
        }
      }
    }
  }

  private _fail(message: string): void {
    this._state = S_STOPPED;
    this._body = "";
    this._sink._onParseError(message, true);
  }
}
