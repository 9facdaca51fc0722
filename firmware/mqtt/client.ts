/**
 * MQTT 3.1.1 client for Espruino and the Node simulator: QoS 0/1 out, QoS 0/1/2 in, Last Will, retained
 * flags, keepalive with dead-link detection, reconnect with backoff. This file is the connection logic and
 * spells the packets it sends; the remaining length (encode.ts) and the incremental parser (parser.ts)
 * live apart.
 *
 * ```ts
 * export interface MqttOptions {
 *   clientId: string; username: string; password: string;   // "" = not sent
 *   keepaliveSeconds: number; cleanSession: boolean;
 *   will: { topic: string; payload: string; qos: number; retain: boolean } | null;
 *   maxPacketBytes?: number;   // inbound packet cap; bigger packets are skipped without buffering, reported, link closed+retried (default 2048)
 *   maxInflight?: number;      // outbound QoS1 in-flight bound (default 8)
 *   backoffMinMs?: number; backoffMaxMs?: number;   // default 1000 doubling to 60000, with jitter, reset after a stable connection
 *   connackTimeoutMs?: number; // default 10000
 * }
 * export class MqttClient {
 *   constructor(connector: Connector, clock: Clock, options: MqttOptions);
 *   onConnect: (sessionPresent: boolean) => void;      // after CONNACK accepted
 *   onClose: (reason: string) => void;                 // link down for any reason; the client reconnects by itself unless end() was called
 *   onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
 *   onError: (message: string) => void;                // refusals by name ("not authorized"), SUBACK 0x80, in-flight full, protocol errors
 *   connected: boolean;
 *   start(): void;                                     // begin connecting; retries with backoff forever
 *   end(): void;                                       // graceful: DISCONNECT (so no Will), close, no reconnect
 *   publish(topic: string, payload: string, qos: number, retain: boolean): boolean; // throws Error on caller mistakes (wildcards, empty topic, qos 2, non-string); false when dropped (QoS0 offline / in-flight full: also onError)
 *   subscribe(topic: string, qos: number): void;       // remembered; restored after reconnect when the broker has no session
 *   unsubscribe(topic: string): void;
 * }
 * ```
 * The four callbacks are optional: unset, an event is simply not reported.
 *
 * Behaviour in detail:
 * - onClose(reason) is called once whenever an attempt or a connection ends (connector threw, link
 *   closed, CONNACK refused or late, keepalive timeout, protocol error, end()). The client then retries
 *   after the backoff delay unless end() was called. Never two links at once.
 * - onError(message) comes before onClose for errors: refusals ("connection refused: not authorized"),
 *   protocol errors, CONNACK timeout; alone for SUBACK 0x80 and a full in-flight list.
 * - publish() QoS 0 while offline returns false (no onError: the app knows from `connected`).
 *   QoS 1 is queued (online or offline) in the in-flight list until PUBACK; when the list holds
 *   maxInflight messages the new one is dropped: false and onError. After every reconnect the whole list is
 *   sent again in order, with DUP set on those already sent once (even into a new session, so
 *   at-least-once survives a broker restart).
 * - Inbound QoS 1 is delivered then PUBACKed. Inbound QoS 2 is handled fully (section 4.3.3, method B):
 *   delivered once on the first PUBLISH, PUBREC sent, its id kept until PUBREL, then PUBCOMP. At most 8
 *   ids wait for PUBREL; past that the broker is misbehaving: error, link closed.
 * - Keepalive: PINGREQ when nothing was sent for keepaliveSeconds, or nothing received for that long (so a
 *   publish-only node still gets answers); the link is closed as dead when no packet arrives within 1.5x
 *   keepaliveSeconds. keepaliveSeconds 0 turns both off.
 * - Backoff: the first attempt is immediate; after a failure wait d - jitter (jitter up to d/4) with d
 *   from backoffMinMs doubling to backoffMaxMs; d goes back to backoffMinMs when a connection lasted
 *   STABLE_MS (30 s).
 * - Subscriptions are remembered (one topic per SUBSCRIBE) and sent again after a reconnect when CONNACK
 *   says sessionPresent = 0, or when their SUBACK never came. unsubscribe() offline only forgets.
 * - The Connector must not call _on from inside the connector call itself (Espruino and Node
 *   sockets never do); Link.close() must flush what was written (DISCONNECT) and fire no event.
 *
 * Memory (ESP8266: 1600 JsVars for the whole firmware; measured on Espruino 2v29, 12-byte JsVars, code in
 * Storage, flat bundle): a function object costs about 5 JsVars + 1 per parameter for as long as the
 * firmware runs, a bound function about as much (it copies the parameters), a field 1 (reference, integer
 * -1024..1023) or 2 (other numbers, times included, boolean, string, null), an unset field nothing. So the
 * client is its six public methods and ONE internal entry point, _on(code, s), through which everything
 * else goes: the link opening, its bytes and its closing (the connector is handed the client itself and
 * calls _on: no events object, no function per event), the timer (the one bound function), each parsed
 * packet (code = its first byte; one chain of cases over the packet types), parse errors, and the
 * client's own requests (write a packet, next packet id, drop the link, end). The parser (parser.ts) and
 * the remaining-length framing (encode.ts) are called from _on only, so the minifier inlines them there:
 * no function object of their own; each packet is spelled where it is sent. The parser keeps its two
 * state fields in this object. Options left at their default are not stored, nor the backoff's failure
 * count while it is 0, nor the in-flight list while it is empty; keepalive is kept in seconds (a small
 * integer). State is plain numbers and byte strings: the in-flight list is one array of strings (packet
 * id + packet), the subscriptions one array of strings (packet id + QoS byte + topic), the CONNECT packet
 * is built once. Issue 3's app (bench/mem/mqtt-app.ts, over the firmware's DeviceClock and netConnector)
 * runs in 260 JsVars steady, 263 at its peak (bench/memory.ts mqtt-app); with no client at all, its
 * packets written by hand (bench/mem/mqtt-app-raw.ts), in 143.
 */
import { LINK_OPEN, LINK_DATA, LINK_CLOSE, type Clock, type Connector, type Link } from "../types";
import { feed, P_STOPPED, P_FATAL, P_SKIPPED } from "./parser";
import { frame, PINGREQ_PACKET, DISCONNECT_PACKET } from "./encode";
import { CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGRESP, F_DUP } from "./packet";

export interface MqttOptions {
  clientId: string;
  username: string;
  password: string;
  keepaliveSeconds: number;
  cleanSession: boolean;
  will: { topic: string; payload: string; qos: number; retain: boolean } | null;
  maxPacketBytes?: number;
  maxInflight?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  connackTimeoutMs?: number;
}

/* Connection states. */
const S_IDLE = 0;
const S_WAIT = 1;
const S_OPENING = 2;
const S_CONNACK = 3;
const S_UP = 4;
const S_ENDED = 5;

/* _on() codes besides a packet's first byte (>= 16), the link's LINK_OPEN (1), LINK_DATA (2) and LINK_CLOSE (3)
   (firmware/types.ts: the connector calls _on itself) and the parser's P_FATAL (4) and P_SKIPPED (5). */
/** The one timer fired: backoff over, CONNACK deadline or keepalive, depending on the state. */
const EV_TIMER = 6;
/**
 * Write the packet s, given as its first byte then its body (encode.ts frame() adds the remaining length),
 * to the link, if there is one. A failed write drops the link.
 */
const EV_SEND = 7;
/** end(): drop the link, no retry. */
const EV_END = 8;
/** Returns the next free packet id. */
const EV_ID = 9;

/* What _on() does with the timer once the event is handled. */
const T_KEEP = -2;
const T_STOP = -1;
const T_KEEPALIVE = -3;

/* Subscription entries: 2-byte packet id, QoS byte, topic. The QoS byte has UNACKED set until SUBACK. */
const UNACKED = 0x80;

/* Option defaults (MqttOptions). MAX_PACKET_BYTES is the parser's (parser.ts). */
const CONNACK_TIMEOUT_MS = 10000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60000;
const MAX_INFLIGHT = 8;

/** A connection that lasted this long resets the backoff delay. */
export const STABLE_MS = 30000;
/** Inbound QoS 2 ids waiting for PUBREL, at most. */
export const MAX_QOS2_PENDING = 8;

export class MqttClient {
  onConnect!: (sessionPresent: boolean) => void;
  onClose!: (reason: string) => void;
  onMessage!: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
  onError!: (message: string) => void;
  connected = false;

  private _conn: Connector;
  private _clock: Clock;
  private _tick: () => void;
  /* The CONNECT packet, built once: first byte and body (EV_SEND adds the remaining length). */
  private _connect: string;
  /* Keepalive in seconds: a number up to 1023 fits its field's JsVar, 30000 ms would take two. */
  private _ka: number;
  /* Options left at their default are not stored (an unset field costs nothing); the defaults apply where they are read. */
  private _cto?: number;
  private _bmin?: number;
  private _bmax?: number;
  private _max?: number;
  /* Failed attempts since the last stable connection (the backoff delay doubles with each); unset: none. */
  private _fails?: number;
  private _link: Link | null = null;
  private _st = S_IDLE;
  private _timer: any = null;
  /* Clock time of the last CONNACK, kept only while there are _fails for a stable connection to reset. */
  private _up?: number;
  private _tx = 0;
  /**
   * Clock time (ms) of the last packet received. Read by the node: when keepalive finds a silently dead
   * link 1.5 x keepalive late, the pump's link-lost countdown starts from here, not from the detection.
   */
  _rx = 0;
  /* 1 while a PINGREQ awaits its PINGRESP, else unset (a boolean field would cost 2 JsVars, a 0 one 1). */
  private _ping?: number;
  private _id = 0;
  /* Outbound QoS 1 in flight: 2-byte packet id + the PUBLISH packet (first byte and body, as EV_SEND takes
     it) as the next (re)send must look: DUP is set in the stored copy once the packet went out. Unset while
     empty. */
  private _q?: string[];
  /* Subscriptions: 2-byte id of the SUBSCRIBE awaiting SUBACK (0: none), QoS byte (| UNACKED), topic. */
  private _subs: string[] = [];
  /* Inbound QoS 2 packet ids delivered and waiting for PUBREL; made on the first QoS 2 message. */
  private _rx2?: number[];
  /** @internal Parser state (parser.ts, Framer): stopped while there is no open link, unset while framing. */
  _pn?: number = P_STOPPED;
  /** @internal */
  _pb?: string;
  /** @internal */
  _pmax?: number;

  /**
   * @param connector opens a link to the broker; may throw (counted as a failed attempt)
   * @param clock time and timers (milliseconds)
   * @param options see MqttOptions; copied, not kept. Throws when a password is given without a username
   *   (section 3.1.2.9), or a string field is over 65535 bytes.
   */
  constructor(connector: Connector, clock: Clock, options: MqttOptions) {
    var o = options;
    if (o.password && !o.username) throw new Error("MqttOptions.password needs a username (MQTT 3.1.1 section 3.1.2.9)");
    this._conn = connector;
    this._clock = clock;
    this._ka = o.keepaliveSeconds;
    if (o.connackTimeoutMs) this._cto = o.connackTimeoutMs;
    if (o.backoffMinMs) this._bmin = o.backoffMinMs;
    if (o.backoffMaxMs) this._bmax = o.backoffMaxMs;
    if (o.maxInflight) this._max = o.maxInflight;
    if (o.maxPacketBytes) this._pmax = o.maxPacketBytes;
    this._tick = this._on.bind(this, EV_TIMER);

    // CONNECT (section 3.1): protocol "MQTT" level 4, flags, keepalive, client id, then Will topic and
    // payload, user name and password when present (an empty one is not sent). Built here, once: this
    // helper is garbage once the constructor returns.
    var str = function (s: string): string {
      if (s.length > 65535) throw new Error("MQTT string of " + s.length + " bytes is over 65535");
      return String.fromCharCode(s.length >> 8, s.length & 255) + s;
    };
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
    this._connect = "\x10\x00\x04MQTT\x04" + String.fromCharCode(flags, (o.keepaliveSeconds >> 8) & 255, o.keepaliveSeconds & 255) + tail;
  }

  /** Begin connecting now; retries with backoff forever until end(). Calling it again does nothing. */
  start(): void {
    if (this._st !== S_IDLE && this._st !== S_ENDED) return;
    this._st = S_WAIT;
    this._on(EV_TIMER);
  }

  /** Graceful close: DISCONNECT (the broker drops the Will), close the link, no reconnect. */
  end(): void {
    if (this._st === S_UP) this._on(EV_SEND, DISCONNECT_PACKET);
    this._on(EV_END);
  }

  /**
   * Publish a byte-string payload. QoS 0 goes out now or is dropped (false) when offline; QoS 1 is kept
   * until PUBACK, sent now if connected, else after the next CONNACK.
   * @returns false when dropped (QoS 0 offline; QoS 1 with the in-flight list full, also onError)
   * @throws Error for a topic that is empty, not a string or has + or #, a non-string payload, QoS not 0/1
   */
  publish(topic: string, payload: string, qos: number, retain: boolean): boolean {
    if (typeof topic !== "string" || !topic.length || topic.length > 65535 || topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) {
      throw new Error("publish: topic must be a non-empty string without + or #, got " + (typeof topic === "string" ? JSON.stringify(topic) : typeof topic));
    }
    if (typeof payload !== "string") throw new Error("publish: payload must be a string, got " + typeof payload);
    if (qos !== 0 && qos !== 1) throw new Error("publish: qos must be 0 or 1, got " + qos);
    var h = (PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0);
    // Section 3.3: topic (2-byte length, bytes), packet id when QoS > 0, payload.
    var t = String.fromCharCode(topic.length >> 8, topic.length & 255) + topic;
    if (!qos) {
      if (!this.connected) return false;
      this._on(EV_SEND, String.fromCharCode(h) + t + payload);
      return true;
    }
    var max = this._max || MAX_INFLIGHT;
    var q = this._q || [];
    if (q.length >= max) {
      if (this.onError) this.onError("in-flight list full (" + max + " QoS 1 messages awaiting PUBACK): message to " + topic + " dropped");
      return false;
    }
    var id = this._on(EV_ID);
    var body = t + String.fromCharCode(id >> 8, id & 255) + payload;
    var sent = this.connected;
    q.push(String.fromCharCode(id >> 8, id & 255, sent ? h | F_DUP : h) + body);
    this._q = q;
    if (sent) this._on(EV_SEND, String.fromCharCode(h) + body);
    return true;
  }

  /** Subscribe to a topic filter (wildcards allowed) at QoS 0..2; remembered and restored after reconnects. */
  subscribe(topic: string, qos: number): void {
    if (typeof topic !== "string" || !topic.length || topic.length > 65535) {
      throw new Error("subscribe: topic must be a non-empty string, got " + (typeof topic === "string" ? JSON.stringify(topic) : typeof topic));
    }
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("subscribe: qos must be 0, 1 or 2, got " + qos);
    var subs = this._subs;
    var i = subs.length;
    while (i-- && subs[i].substring(3) !== topic); // i: the topic's entry, or -1
    // Sent now when connected, else by the next CONNACK, which also sends it again while it is UNACKED.
    var id = this.connected ? this._on(EV_ID) : 0;
    var e = String.fromCharCode(id >> 8, id & 255, qos | UNACKED) + topic;
    if (i < 0) subs.push(e);
    else subs[i] = e;
    // Section 3.8: packet id, topic filter (2-byte length, bytes), requested QoS.
    if (id) this._on(EV_SEND, String.fromCharCode((SUBSCRIBE << 4) | 2, id >> 8, id & 255, topic.length >> 8, topic.length & 255) + topic + String.fromCharCode(qos));
  }

  /** Forget a subscription; UNSUBSCRIBE is sent when connected. */
  unsubscribe(topic: string): void {
    if (typeof topic !== "string" || !topic.length || topic.length > 65535) {
      throw new Error("unsubscribe: topic must be a non-empty string, got " + (typeof topic === "string" ? JSON.stringify(topic) : typeof topic));
    }
    var subs = this._subs;
    var i = subs.length;
    while (i-- && subs[i].substring(3) !== topic); // i: the topic's entry, or -1
    if (i >= 0) subs.splice(i, 1);
    // Section 3.10: packet id, topic filter (2-byte length, bytes).
    if (!this.connected) return;
    var id = this._on(EV_ID);
    this._on(EV_SEND, String.fromCharCode((UNSUBSCRIBE << 4) | 2, id >> 8, id & 255, topic.length >> 8, topic.length & 255) + topic);
  }

  /**
   * @internal The one entry point for everything that is not a public call (see the file header), the
   * connector's LinkEvents too: code is LINK_* from the link (open, data: s the bytes, close: s the reason),
   * EV_* (timer, send, end, next packet id: returned), P_FATAL/P_SKIPPED from the parser (s: the message),
   * or a whole packet's first byte (s: its body). Callbacks run last, once the state is consistent,
   * because they may call back into the client.
   */
  _on(code: number, s?: string): any {
    var i: number, id: number, e: string;
    var q: string[]; // the in-flight list, or an empty one when unset: made only where it is read
    var subs = this._subs;
    if (code === LINK_DATA) {
      // The parser comes back here with each whole packet. Called from here only, so the minifier
      // inlines it: the parser is no function object of its own.
      return feed(this, s as string);
    }
    if (code === EV_ID) {
      // Next packet id 1..65535, wrapping, skipping ids still in use (section 2.3.1): in flight or awaiting SUBACK.
      id = this._id;
      q = this._q || [];
      do {
        id = id >= 65535 ? 1 : id + 1;
        for (i = q.length; i-- && ((q[i].charCodeAt(0) << 8) | q[i].charCodeAt(1)) !== id; );
        if (i < 0) for (i = subs.length; i-- && ((subs[i].charCodeAt(0) << 8) | subs[i].charCodeAt(1)) !== id; );
      } while (i >= 0);
      return (this._id = id);
    }
    var clock = this._clock;
    var now = clock.now();
    var st = this._st;
    var reason = ""; // the link must go, for this reason
    var error = false; // ... and the reason is an error for onError first
    var next = T_KEEP; // the timer after this event: T_KEEP, T_STOP, T_KEEPALIVE or milliseconds
    var sp = -1; // CONNACK accepted with this session-present flag: onConnect at the end

    if (code === EV_SEND) {
      var l = this._link;
      if (!l) return;
      // The one call of frame(): the minifier inlines it here (file header, "Memory").
      var pkt = frame(s as string);
      try {
        l.write(pkt);
        this._tx = now;
        return;
      } catch (x: any) {
        reason = "write failed: " + (x && x.message ? x.message : String(x));
      }
    } else if (code === EV_END) {
      reason = "ended by the client";
    } else if (code === LINK_CLOSE) {
      if (st < S_OPENING || st > S_UP) return;
      this._link = null;
      reason = s || "link closed";
    } else if (code === LINK_OPEN) {
      if (st !== S_OPENING || !this._link) return;
      this._st = S_CONNACK;
      delete this._pn;
      return this._on(EV_SEND, this._connect);
    } else if (code === EV_TIMER) {
      this._timer = null;
      if (st === S_WAIT) {
        // A new attempt. The CONNACK deadline runs from now, whether or not the link opens.
        this._st = S_OPENING;
        this._timer = clock.setTimeout(this._tick, this._cto || CONNACK_TIMEOUT_MS);
        try {
          var link = this._conn(this);
          // A connector that already reported onClose left us waiting for the next attempt: ignore its link.
          if (this._st === S_OPENING) this._link = link;
          return;
        } catch (x: any) {
          reason = "connect failed: " + (x && x.message ? x.message : String(x));
        }
      } else if (st === S_OPENING || st === S_CONNACK) {
        reason = "no CONNACK within " + (this._cto || CONNACK_TIMEOUT_MS) + " ms";
        error = true;
      } else if (st === S_UP) {
        // Keepalive (section 3.1.2.10): dead after 1.5x without a packet; PINGREQ when due either way.
        var ka = this._ka * 1000;
        if (now - this._rx >= ka * 1.5) {
          reason = "keepalive timeout: nothing received for " + (now - this._rx) / 1000 + " s";
        } else {
          if (now - this._tx >= ka || (!this._ping && now - this._rx >= ka)) {
            this._on(EV_SEND, PINGREQ_PACKET);
            this._ping = 1;
          }
          if (!this._link) return;
          next = T_KEEPALIVE;
        }
      }
    } else if (code === P_FATAL || code === P_SKIPPED) {
      reason = s as string;
      error = true;
    } else {
      // A whole packet from the parser: code is its first byte, b its body.
      var type = code >> 4;
      var b = s as string;
      var n = b.length;
      q = this._q || [];
      this._rx = now;
      delete this._ping;
      if (st !== S_UP && type !== CONNACK) {
        reason = "packet type " + type + " before CONNACK";
      } else if (type === CONNACK) {
        // Section 3.2: session present flag, return code (table 3.1; refusals reported by name).
        var rc = b.charCodeAt(1);
        if (st !== S_CONNACK) reason = "unexpected CONNACK";
        else if (n !== 2) reason = "bad CONNACK length " + n;
        else if (rc) reason = "connection refused: " + (rc < 6 ? ["unacceptable protocol version", "identifier rejected", "server unavailable", "bad username or password", "not authorized"][rc - 1] : "return code " + rc);
        else {
          sp = b.charCodeAt(0) & 1;
          this._st = S_UP;
          this.connected = true;
          if (this._fails) this._up = now;
          if (!sp) delete this._rx2;
          // Subscriptions: all again without a session, else those whose SUBACK never came.
          for (i = 0; i < subs.length && this._link; i++) {
            e = subs[i];
            if (sp && !(e.charCodeAt(2) & UNACKED)) continue;
            id = this._on(EV_ID);
            subs[i] = String.fromCharCode(id >> 8, id & 255, e.charCodeAt(2) | UNACKED) + e.substring(3);
            this._on(EV_SEND, String.fromCharCode((SUBSCRIBE << 4) | 2, id >> 8, id & 255, (e.length - 3) >> 8, (e.length - 3) & 255) + e.substring(3) + String.fromCharCode(e.charCodeAt(2) & 3));
          }
          // In flight: the whole list again in order (DUP already set on those sent before), then DUP on all.
          for (i = 0; i < q.length && this._link; i++) {
            e = q[i];
            this._on(EV_SEND, e.substring(2));
            if (this._link && !(e.charCodeAt(2) & F_DUP)) q[i] = e.substring(0, 2) + String.fromCharCode(e.charCodeAt(2) | F_DUP) + e.substring(3);
          }
          if (!this._link) return;
          next = T_KEEPALIVE;
        }
      } else if (type === PUBLISH) {
        // Section 3.3: topic, packet id when QoS > 0, payload. Flags: DUP 8, QoS << 1, RETAIN 1.
        var qos = (code >> 1) & 3;
        var pos = n < 2 ? n + 1 : 2 + ((b.charCodeAt(0) << 8) | b.charCodeAt(1));
        id = 0;
        if (qos) {
          if (pos + 2 <= n) id = (b.charCodeAt(pos) << 8) | b.charCodeAt(pos + 1);
          pos += 2;
        }
        // QoS 2 (section 4.3.3, method B): delivered on the first PUBLISH only, its id kept until PUBREL.
        var rx2 = qos === 2 ? this._rx2 || (this._rx2 = []) : null;
        var again = rx2 ? rx2.indexOf(id) >= 0 : false;
        if (pos > n) reason = "truncated PUBLISH";
        else if (qos && !id) reason = "PUBLISH with packet id 0";
        else if (rx2 && !again && rx2.length >= MAX_QOS2_PENDING) reason = "more than " + MAX_QOS2_PENDING + " QoS 2 messages awaiting PUBREL";
        else {
          if (!again) {
            if (rx2) rx2.push(id);
            if (this.onMessage) this.onMessage(b.substring(2, qos ? pos - 2 : pos), b.substring(pos), (code & 1) === 1, qos, (code & F_DUP) !== 0);
          }
          // PUBACK or PUBREC, after delivery (a no-op when the callback ended the client).
          if (qos) this._on(EV_SEND, String.fromCharCode(qos === 2 ? PUBREC << 4 : PUBACK << 4, id >> 8, id & 255));
        }
      } else if (type === PINGRESP) {
        // this._rx is all it is for
      } else if (type !== PUBACK && type !== PUBREL && type !== SUBACK && type !== UNSUBACK) {
        reason = "unexpected packet type " + type + " from the broker";
      } else if (n < 2 || (type !== SUBACK && n !== 2)) {
        reason = "bad length " + n + " for packet type " + type;
      } else {
        id = (b.charCodeAt(0) << 8) | b.charCodeAt(1);
        if (type === PUBACK) {
          for (i = 0; i < q.length; i++) {
            if (((q[i].charCodeAt(0) << 8) | q[i].charCodeAt(1)) !== id) continue;
            q.splice(i, 1);
            if (!q.length) delete this._q;
            break;
          }
        } else if (type === PUBREL) {
          var pending = this._rx2;
          i = pending ? pending.indexOf(id) : -1;
          if (pending && i >= 0) pending.splice(i, 1);
          this._on(EV_SEND, String.fromCharCode(PUBCOMP << 4, id >> 8, id & 255));
        } else if (type === SUBACK) {
          for (i = 0; i < subs.length; i++) {
            e = subs[i];
            if (((e.charCodeAt(0) << 8) | e.charCodeAt(1)) !== id) continue;
            subs[i] = "\x00\x00" + String.fromCharCode(e.charCodeAt(2) & 3) + e.substring(3);
            if (b.charCodeAt(2) & 0x80 && this.onError) this.onError("subscribe to " + e.substring(3) + " refused by the broker (SUBACK 0x80)");
            break;
          }
        }
        // UNSUBACK: nothing to do (the subscription was forgotten when unsubscribe() was called).
      }
      error = reason !== "";
    }

    if (reason) {
      // The link is gone or must go: report the error, close the link, schedule the next attempt.
      if (error && this.onError) this.onError(reason);
      st = this._st; // onError may have called end()
      if (code !== EV_END && (st < S_OPENING || st > S_UP)) return;
      var old = this._link;
      this._link = null;
      this._pn = P_STOPPED;
      delete this._pb;
      if (old) {
        try {
          old.close();
        } catch (x) {
          // closing a broken link: nothing more to do
        }
      }
      if (this.connected && this._up !== undefined && now - this._up >= STABLE_MS) delete this._fails;
      delete this._up;
      this.connected = false;
      if (code === EV_END) {
        this._st = S_ENDED;
        next = T_STOP;
        // onClose only when an attempt or a connection was ended
        if (st < S_OPENING || st > S_UP) reason = "";
      } else {
        this._st = S_WAIT;
        var k = this._fails || 0;
        var max = this._bmax || BACKOFF_MAX_MS;
        var d = (this._bmin || BACKOFF_MIN_MS) * Math.pow(2, k);
        if (d >= max) d = max;
        else this._fails = k + 1;
        next = d - Math.floor((Math.random() * d) / 4);
      }
    }
    if (next === T_KEEPALIVE) {
      // Milliseconds until the keepalive needs a look: next PINGREQ due, or the receive deadline.
      var ms = this._ka * 1000;
      var t = this._tx + ms;
      var r = this._rx + (this._ping ? ms * 1.5 : ms);
      next = ms ? (t < r ? t : r) - now : T_STOP;
    }
    if (next !== T_KEEP) {
      if (this._timer !== null) clock.clearTimeout(this._timer);
      this._timer = next >= 0 ? clock.setTimeout(this._tick, next) : null;
    }
    if (reason && this.onClose) this.onClose(reason);
    if (sp >= 0 && this.onConnect) this.onConnect(sp === 1);
  }
}
