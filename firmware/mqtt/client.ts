/**
 * MQTT 3.1.1 client for Espruino and the Node simulator: QoS 0/1 out, QoS 0/1/2 in, Last Will, retained
 * flags, keepalive with dead-link detection, reconnect with backoff. Codec lives apart (encode.ts,
 * parser.ts); this file is the connection logic, one handler per inbound packet type.
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
 *   publish-only node still gets answers); the link is closed as dead when nothing arrives within 1.5x
 *   keepaliveSeconds. keepaliveSeconds 0 turns both off.
 * - Backoff: the first attempt is immediate; after a failure wait d - jitter (jitter up to d/4) with d
 *   from backoffMinMs doubling to backoffMaxMs; d goes back to backoffMinMs when a connection lasted
 *   STABLE_MS (30 s).
 * - Subscriptions are remembered (one topic per SUBSCRIBE) and sent again after a reconnect when CONNACK
 *   says sessionPresent = 0, or when their SUBACK never came. unsubscribe() offline only forgets.
 * - The Connector must not call LinkEvents from inside the connector call itself (Espruino and Node
 *   sockets never do); Link.close() must flush what was written (DISCONNECT) and fire no event.
 */
import type { Clock, Connector, Link, LinkEvents } from "../types";
import { Parser, type PacketSink } from "./parser";
import { encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, PINGREQ_PACKET, DISCONNECT_PACKET } from "./encode";
import { CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP, F_DUP, readU16 } from "./packet";

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

/** A connection that lasted this long resets the backoff delay. */
export const STABLE_MS = 30000;
/** Inbound QoS 2 ids waiting for PUBREL, at most. */
export const MAX_QOS2_PENDING = 8;

function noop(): void {}

/** CONNACK return codes by name (section 3.2.2.3, table 3.1). */
export function refusalName(code: number): string {
  switch (code) {
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad username or password";
    case 5: return "not authorized";
  }
  return "return code " + code;
}

function checkTopic(what: string, topic: any, filter: boolean): void {
  if (typeof topic !== "string" || !topic.length || topic.length > 65535 || (!filter && (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0))) {
    throw new Error(what + ": topic must be a non-empty string" + (filter ? "" : " without + or #") + ", got " + (typeof topic === "string" ? JSON.stringify(topic) : typeof topic));
  }
}

/* The LinkEvents the connector gets: one small object made once, forwarding to the client. */
class Events implements LinkEvents {
  private _c: MqttClient;
  constructor(c: MqttClient) {
    this._c = c;
  }
  onOpen(): void {
    this._c._open();
  }
  onData(data: string): void {
    this._c._data(data);
  }
  onClose(reason?: string): void {
    this._c._linkClosed(reason);
  }
}

export class MqttClient implements PacketSink {
  onConnect: (sessionPresent: boolean) => void = noop;
  onClose: (reason: string) => void = noop;
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void = noop;
  onError: (message: string) => void = noop;
  connected = false;

  private _conn: Connector;
  private _clock: Clock;
  private _o: MqttOptions;
  private _ev: Events;
  private _p: Parser;
  private _tick: () => void;
  private _link: Link | null = null;
  private _state = S_IDLE;
  private _timer: any = null;
  private _delay: number;
  private _upAt = 0;
  private _lastTx = 0;
  private _lastRx = 0;
  private _ping = false;
  private _id = 0;
  /* Outbound QoS 1 in flight: parallel arrays of packet id and encoded packet; the first _ifSent went out. */
  private _ifId: number[] = [];
  private _ifPkt: string[] = [];
  private _ifSent = 0;
  /* Subscriptions: topic, QoS, and 0 when acknowledged / the SUBSCRIBE packet id awaiting SUBACK / -1 unsent. */
  private _subT: string[] = [];
  private _subQ: number[] = [];
  private _subId: number[] = [];
  /* Inbound QoS 2 packet ids delivered and waiting for PUBREL. */
  private _rx2: number[] = [];

  /**
   * @param connector opens a link to the broker; may throw (counted as a failed attempt)
   * @param clock time and timers (milliseconds)
   * @param options see MqttOptions; throws when a password is given without a username (section 3.1.2.9)
   */
  constructor(connector: Connector, clock: Clock, options: MqttOptions) {
    if (options.password && !options.username) throw new Error("MqttOptions.password needs a username (MQTT 3.1.1 section 3.1.2.9)");
    this._conn = connector;
    this._clock = clock;
    this._o = options;
    this._ev = new Events(this);
    this._p = new Parser(this, options.maxPacketBytes || 2048);
    this._tick = this._onTimer.bind(this);
    this._delay = options.backoffMinMs || 1000;
  }

  /** Begin connecting now; retries with backoff forever until end(). Calling it again does nothing. */
  start(): void {
    if (this._state !== S_IDLE && this._state !== S_ENDED) return;
    this._attempt();
  }

  /** Graceful close: DISCONNECT (the broker drops the Will), close the link, no reconnect. */
  end(): void {
    var had = this._state !== S_IDLE && this._state !== S_ENDED && this._state !== S_WAIT;
    if (this._state === S_UP) this._write(DISCONNECT_PACKET);
    this._state = S_ENDED;
    this._stopTimer();
    this._closeLink();
    this.connected = false;
    if (had) this.onClose("ended by the client");
  }

  /**
   * Publish a byte-string payload. QoS 0 goes out now or is dropped (false) when offline; QoS 1 is kept
   * until PUBACK, sent now if connected, else after the next CONNACK.
   * @returns false when dropped (QoS 0 offline; QoS 1 with the in-flight list full, also onError)
   * @throws Error for a topic that is empty, not a string or has + or #, a non-string payload, QoS not 0/1
   */
  publish(topic: string, payload: string, qos: number, retain: boolean): boolean {
    checkTopic("publish", topic, false);
    if (typeof payload !== "string") throw new Error("publish: payload must be a string, got " + typeof payload);
    if (qos !== 0 && qos !== 1) throw new Error("publish: qos must be 0 or 1, got " + qos);
    if (!qos) {
      if (!this.connected) return false;
      this._write(encodePublish(topic, payload, 0, retain, false, 0));
      return true;
    }
    var max = this._o.maxInflight || 8;
    if (this._ifId.length >= max) {
      this.onError("in-flight list full (" + max + " QoS 1 messages awaiting PUBACK): message to " + topic + " dropped");
      return false;
    }
    var id = this._newId();
    var pkt = encodePublish(topic, payload, 1, retain, false, id);
    this._ifId.push(id);
    this._ifPkt.push(pkt);
    if (this.connected) {
      this._ifSent = this._ifId.length;
      this._write(pkt);
    }
    return true;
  }

  /** Subscribe to a topic filter (wildcards allowed) at QoS 0..2; remembered and restored after reconnects. */
  subscribe(topic: string, qos: number): void {
    checkTopic("subscribe", topic, true);
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("subscribe: qos must be 0, 1 or 2, got " + qos);
    var i = this._subT.indexOf(topic);
    if (i < 0) {
      i = this._subT.length;
      this._subT.push(topic);
      this._subQ.push(qos);
      this._subId.push(-1);
    } else {
      this._subQ[i] = qos;
      this._subId[i] = -1;
    }
    if (this.connected) this._sendSub(i);
  }

  /** Forget a subscription; UNSUBSCRIBE is sent when connected. */
  unsubscribe(topic: string): void {
    checkTopic("unsubscribe", topic, true);
    var i = this._subT.indexOf(topic);
    if (i >= 0) {
      this._subT.splice(i, 1);
      this._subQ.splice(i, 1);
      this._subId.splice(i, 1);
    }
    if (this.connected) this._write(encodeUnsubscribe(this._newId(), topic));
  }

  /* ---- link events (called through Events) ---- */

  /** @internal */
  _open(): void {
    if (this._state !== S_OPENING || !this._link) return;
    this._state = S_CONNACK;
    this._write(encodeConnect(this._o));
  }

  /** @internal */
  _data(data: string): void {
    if (!this._link) return;
    this._lastRx = this._clock.now();
    this._ping = false;
    this._p.feed(data);
  }

  /** @internal */
  _linkClosed(reason?: string): void {
    if (this._state < S_OPENING || this._state > S_UP) return;
    this._link = null;
    this._down(reason || "link closed");
  }

  /* ---- parser sink ---- */

  /** @internal */
  _onParseError(message: string, _fatal: boolean): void {
    this._fail(message);
  }

  /** @internal One handler per packet type. */
  _onPacket(h: number, b: string): void {
    if (!this._link) return;
    var type = h >> 4;
    if (this._state !== S_UP && type !== CONNACK) return this._fail("packet type " + type + " before CONNACK");
    if (type === CONNACK) this._connack(b);
    else if (type === PUBLISH) this._publish(h, b);
    else if (type === PINGRESP) return;
    else if (type !== PUBACK && type !== PUBREL && type !== SUBACK && type !== UNSUBACK) this._fail("unexpected packet type " + type + " from the broker");
    else if (b.length < 2 || (type !== SUBACK && b.length !== 2)) this._fail("bad length " + b.length + " for packet type " + type);
    else if (type === PUBACK) this._puback(readU16(b, 0));
    else if (type === PUBREL) this._pubrel(readU16(b, 0));
    else if (type === SUBACK) this._suback(b);
  }

  private _connack(b: string): void {
    if (this._state !== S_CONNACK) return this._fail("unexpected CONNACK");
    if (b.length !== 2) return this._fail("bad CONNACK length " + b.length);
    var rc = b.charCodeAt(1);
    if (rc) return this._fail("connection refused: " + refusalName(rc));
    var sp = (b.charCodeAt(0) & 1) === 1;
    this._stopTimer();
    this._state = S_UP;
    this.connected = true;
    var now = this._clock.now();
    this._upAt = now;
    this._lastRx = now;
    this._ping = false;
    // Espruino refuses "array.length = 0" (Assignment to a constant): empty it with splice.
    if (!sp) this._rx2.splice(0, this._rx2.length);
    for (var i = 0; i < this._subT.length && this._link; i++) {
      if (!sp || this._subId[i]) this._sendSub(i);
    }
    for (var j = 0; j < this._ifPkt.length && this._link; j++) {
      var p = this._ifPkt[j];
      if (j < this._ifSent) this._ifPkt[j] = p = String.fromCharCode(p.charCodeAt(0) | F_DUP) + p.substring(1);
      this._write(p);
      if (this._link && j >= this._ifSent) this._ifSent = j + 1;
    }
    if (!this._link) return;
    this._schedule(this._kaWait());
    this.onConnect(sp);
  }

  private _publish(h: number, b: string): void {
    var qos = (h >> 1) & 3;
    var n = b.length;
    var pos = n < 2 ? n + 1 : 2 + readU16(b, 0);
    var id = 0;
    if (qos) {
      id = pos + 2 <= n ? readU16(b, pos) : 0;
      pos += 2;
    }
    if (pos > n) return this._fail("truncated PUBLISH");
    if (qos && !id) return this._fail("PUBLISH with packet id 0");
    var topic = b.substring(2, qos ? pos - 2 : pos);
    if (qos === 2) {
      if (this._rx2.indexOf(id) < 0) {
        if (this._rx2.length >= MAX_QOS2_PENDING) return this._fail("more than " + MAX_QOS2_PENDING + " QoS 2 messages awaiting PUBREL");
        this._rx2.push(id);
        this.onMessage(topic, b.substring(pos), (h & 1) === 1, qos, (h & F_DUP) !== 0);
      }
      this._write(encodeAck(PUBREC, id));
      return;
    }
    this.onMessage(topic, b.substring(pos), (h & 1) === 1, qos, (h & F_DUP) !== 0);
    if (qos) this._write(encodeAck(PUBACK, id));
  }

  private _puback(id: number): void {
    var i = this._ifId.indexOf(id);
    if (i < 0) return;
    this._ifId.splice(i, 1);
    this._ifPkt.splice(i, 1);
    if (i < this._ifSent) this._ifSent--;
  }

  private _pubrel(id: number): void {
    var i = this._rx2.indexOf(id);
    if (i >= 0) this._rx2.splice(i, 1);
    this._write(encodeAck(PUBCOMP, id));
  }

  private _suback(b: string): void {
    var i = this._subId.indexOf(readU16(b, 0));
    if (i < 0) return;
    this._subId[i] = 0;
    if (b.charCodeAt(2) & 0x80) this.onError("subscribe to " + this._subT[i] + " refused by the broker (SUBACK 0x80)");
  }

  /* ---- connection lifecycle ---- */

  private _attempt(): void {
    this._state = S_OPENING;
    this._p.reset();
    this._schedule(this._o.connackTimeoutMs || 10000);
    var link: Link;
    try {
      link = this._conn(this._ev);
    } catch (e: any) {
      this._down("connect failed: " + (e && e.message ? e.message : String(e)));
      return;
    }
    if (this._state === S_OPENING) this._link = link;
  }

  /* The one timer: backoff wait, CONNACK deadline or keepalive, depending on the state. */
  private _onTimer(): void {
    this._timer = null;
    var st = this._state;
    if (st === S_WAIT) this._attempt();
    else if (st === S_OPENING || st === S_CONNACK) this._fail("no CONNACK within " + (this._o.connackTimeoutMs || 10000) + " ms");
    else if (st === S_UP) this._keepalive();
  }

  private _keepalive(): void {
    var ka = this._o.keepaliveSeconds * 1000;
    var now = this._clock.now();
    if (now - this._lastRx >= ka * 1.5) return this._down("keepalive timeout: nothing received for " + (now - this._lastRx) / 1000 + " s");
    if (now - this._lastTx >= ka || (!this._ping && now - this._lastRx >= ka)) {
      this._write(PINGREQ_PACKET);
      this._ping = true;
    }
    if (this._link) this._schedule(this._kaWait());
  }

  /* Milliseconds until the keepalive needs a look: next PINGREQ due or the receive deadline. */
  private _kaWait(): number {
    var ka = this._o.keepaliveSeconds * 1000;
    if (!ka) return -1;
    var t = this._lastTx + ka;
    var r = this._lastRx + (this._ping ? ka * 1.5 : ka);
    return (t < r ? t : r) - this._clock.now();
  }

  private _fail(message: string): void {
    this.onError(message);
    this._down(message);
  }

  /* The link is gone or must go: close it, report, and schedule the next attempt. */
  private _down(reason: string): void {
    if (this._state === S_ENDED || this._state === S_WAIT) return;
    this._stopTimer();
    this._closeLink();
    var now = this._clock.now();
    if (this.connected && now - this._upAt >= STABLE_MS) this._delay = this._o.backoffMinMs || 1000;
    this.connected = false;
    this._state = S_WAIT;
    var d = this._delay;
    this._schedule(d - Math.floor(Math.random() * d / 4));
    var max = this._o.backoffMaxMs || 60000;
    this._delay = d * 2 > max ? max : d * 2;
    this.onClose(reason);
  }

  private _closeLink(): void {
    var l = this._link;
    this._link = null;
    this._p.reset();
    if (l) {
      try {
        l.close();
      } catch (e) {}
    }
  }

  private _write(s: string): void {
    var l = this._link;
    if (!l) return;
    try {
      l.write(s);
      this._lastTx = this._clock.now();
    } catch (e: any) {
      this._down("write failed: " + (e && e.message ? e.message : String(e)));
    }
  }

  private _sendSub(i: number): void {
    var id = this._newId();
    this._subId[i] = id;
    this._write(encodeSubscribe(id, this._subT[i], this._subQ[i]));
  }

  /* Next packet id 1..65535, wrapping, skipping ids still in use (section 2.3.1). */
  private _newId(): number {
    var id = this._id;
    do {
      id = id >= 65535 ? 1 : id + 1;
    } while (this._ifId.indexOf(id) >= 0 || this._subId.indexOf(id) >= 0);
    this._id = id;
    return id;
  }

  private _schedule(ms: number): void {
    this._stopTimer();
    if (ms >= 0) this._timer = this._clock.setTimeout(this._tick, ms);
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      this._clock.clearTimeout(this._timer);
      this._timer = null;
    }
  }
}
