/*
 * MQTT 3.1.1 codec: firmware/mqtt/encode.ts (frame(): the remaining length) and firmware/mqtt/parser.ts
 * (framing parser).
 * Vectors are byte arrays commented field by field (spec sections in brackets), each checked three ways
 * (generate, parse, round trip) and re-fed split at every offset, then all concatenated. Then malformed
 * input with its exact error, cross-checks against mqtt-packet both ways, and fast-check properties.
 * The per-packet encoders come from test/helpers/mqttpackets.ts (fields spelled as the client spells them,
 * over the firmware's frame()); CONNECT is what an MqttClient writes, since the client builds it once in
 * its constructor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { feed, P_STOPPED, P_FATAL, P_SKIPPED, type Framer } from "../firmware/mqtt/parser";
import { frame, PINGREQ_PACKET, DISCONNECT_PACKET } from "../firmware/mqtt/encode";
import { PUBACK, PUBREC, PUBREL, PUBCOMP, readU16 } from "../firmware/mqtt/packet";
import type { MqttOptions } from "../firmware/mqtt/client";
import { S, hex, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, clientConnect as encodeConnect } from "./helpers/mqttpackets";

interface Got {
  packets: [number, string][];
  errors: [string, boolean][];
}

/* A sink for the parser: its state fields (Framer) and what came out. */
class Collect implements Framer {
  _pn = 0;
  _pb?: string;
  _pmax: number;
  got: Got = { packets: [], errors: [] };
  constructor(max: number) {
    this._pmax = max;
  }
  _on(code: number, s?: string) {
    if (code >= 16) this.got.packets.push([code, s as string]);
    else if (code === P_FATAL || code === P_SKIPPED) this.got.errors.push([s as string, code === P_FATAL]);
    else throw new Error("unexpected code " + code);
  }
}

function parseChunks(chunks: string[], max = 1 << 30): Got {
  const c = new Collect(max);
  for (const ch of chunks) feed(c, ch);
  return c.got;
}

/* A parsed packet back to bytes: its first byte, then the firmware's remaining length and the body as it is. */
function reframe(h: number, body: string): string {
  return frame(String.fromCharCode(h) + body);
}

/* The remaining-length bytes of a packet (section 2.2.3): after the first byte, up to the one without bit 7. */
function remainingLengthBytes(pkt: string): string {
  let i = 1;
  while (pkt.charCodeAt(i) & 128) i++;
  return pkt.substring(1, i + 1);
}

/* Split a whole packet into header byte and body, skipping the remaining length (what the parser yields). */
function frameOf(pkt: string): [number, string] {
  let i = 1;
  while (pkt.charCodeAt(i) & 128) i++;
  return [pkt.charCodeAt(0), pkt.substring(i + 1)];
}

/* Test-side decoder of bodies into fields, for the round trip (the firmware decodes inside its handlers). */
function fields(h: number, b: string): any {
  const type = h >> 4;
  const str = (pos: number): [string, number] => {
    const n = readU16(b, pos);
    return [b.substring(pos + 2, pos + 2 + n), pos + 2 + n];
  };
  if (type === 1) {
    const flags = b.charCodeAt(7);
    let [clientId, pos] = str(10);
    const o: any = { clientId, keepaliveSeconds: readU16(b, 8), cleanSession: !!(flags & 2), will: null, username: "", password: "" };
    if (flags & 4) {
      const [topic, p1] = str(pos);
      const [payload, p2] = str(p1);
      o.will = { topic, payload, qos: (flags >> 3) & 3, retain: !!(flags & 32) };
      pos = p2;
    }
    if (flags & 128) [o.username, pos] = str(pos);
    if (flags & 64) [o.password, pos] = str(pos);
    return o;
  }
  if (type === 3) {
    const qos = (h >> 1) & 3;
    const [topic, pos] = str(0);
    return { topic, qos, retain: !!(h & 1), dup: !!(h & 8), id: qos ? readU16(b, pos) : 0, payload: b.substring(qos ? pos + 2 : pos) };
  }
  if (type === 8) {
    const [topic, pos] = str(2);
    return { id: readU16(b, 0), topic, qos: b.charCodeAt(pos) };
  }
  if (type === 10) return { id: readU16(b, 0), topic: str(2)[0] };
  return { type, id: b.length >= 2 ? readU16(b, 0) : -1, rest: b.substring(2) };
}

const CONNECT_MIN: MqttOptions = { clientId: "node1", username: "", password: "", keepaliveSeconds: 30, cleanSession: true, will: null };
const CONNECT_FULL: MqttOptions = { clientId: "n", username: "u", password: "p", keepaliveSeconds: 60, cleanSession: true, will: { topic: "s", payload: "off", qos: 1, retain: true } };
const PAYLOAD_200 = "x".repeat(200);

interface Vector {
  name: string;
  bytes: string;
  /** Our generator's output for this vector, when the client sends this packet. */
  gen?: () => string;
}

const VECTORS: Vector[] = [
  {
    name: "CONNECT, clean session, no will, no credentials [3.1]",
    bytes: S(0x10, 17, // type 1, flags 0; remaining length 17
      0, 4, "MQTT", // protocol name [3.1.2.1]
      4, // protocol level 4 = 3.1.1 [3.1.2.2]
      0x02, // connect flags: clean session [3.1.2.4]
      0, 30, // keepalive 30 s [3.1.2.10]
      0, 5, "node1"), // client id [3.1.3.1]
    gen: () => encodeConnect(CONNECT_MIN)
  },
  {
    name: "CONNECT with will (QoS 1, retained), username and password",
    bytes: S(0x10, 27,
      0, 4, "MQTT", 4,
      0xee, // user 0x80 | password 0x40 | will retain 0x20 | will QoS 1 << 3 | will 0x04 | clean 0x02
      0, 60, // keepalive 60 s
      0, 1, "n", // client id
      0, 1, "s", // will topic [3.1.3.2]
      0, 3, "off", // will message [3.1.3.3]
      0, 1, "u", // user name [3.1.3.4]
      0, 1, "p"), // password [3.1.3.5]
    gen: () => encodeConnect(CONNECT_FULL)
  },
  {
    name: "PUBLISH QoS 0 retained [3.3]",
    bytes: S(0x31, 9, // type 3, retain
      0, 3, "a/b", // topic
      "21.5"), // payload (no packet id at QoS 0)
    gen: () => encodePublish("a/b", "21.5", 0, true, false, 0)
  },
  {
    name: "PUBLISH QoS 1 DUP, packet id 10",
    bytes: S(0x3a, 7, // type 3, DUP 0x08 | QoS 1 << 1
      0, 1, "t", // topic
      0, 10, // packet id [3.3.2.2]
      "ON"), // payload
    gen: () => encodePublish("t", "ON", 1, false, true, 10)
  },
  {
    name: "PUBLISH QoS 1 with a 2-byte remaining length (205) and binary bytes in the topic",
    bytes: S(0x32, 0xcd, 0x01, // 205 = 0x4D | 0x80, then 1 [2.2.3]
      0, 1, 0xb0, // topic: one byte 0xB0 (a byte string, not UTF-16)
      0xff, 0xff, // packet id 65535
      PAYLOAD_200),
    gen: () => encodePublish("\xb0", PAYLOAD_200, 1, false, false, 65535)
  },
  {
    name: "PUBLISH QoS 2 (inbound only) id 7, empty payload",
    bytes: S(0x34, 5, 0, 1, "q", 0, 7),
    gen: () => encodePublish("q", "", 2, false, false, 7)
  },
  { name: "PUBACK id 0x1234 [3.4]", bytes: S(0x40, 2, 0x12, 0x34), gen: () => encodeAck(PUBACK, 0x1234) },
  { name: "PUBREC id 1 [3.5]", bytes: S(0x50, 2, 0, 1), gen: () => encodeAck(PUBREC, 1) },
  { name: "PUBREL id 1, flags 0010 [3.6]", bytes: S(0x62, 2, 0, 1), gen: () => encodeAck(PUBREL, 1) },
  { name: "PUBCOMP id 1 [3.7]", bytes: S(0x70, 2, 0, 1), gen: () => encodeAck(PUBCOMP, 1) },
  {
    name: "SUBSCRIBE id 1, c/# at QoS 1, flags 0010 [3.8]",
    bytes: S(0x82, 8, 0, 1, // packet id
      0, 3, "c/#", // topic filter
      1), // requested QoS
    gen: () => encodeSubscribe(1, "c/#", 1)
  },
  {
    name: "UNSUBSCRIBE id 2, c/# [3.10]",
    bytes: S(0xa2, 7, 0, 2, 0, 3, "c/#"),
    gen: () => encodeUnsubscribe(2, "c/#")
  },
  { name: "PINGREQ [3.12]", bytes: S(0xc0, 0), gen: () => frame(PINGREQ_PACKET) },
  { name: "DISCONNECT [3.14]", bytes: S(0xe0, 0), gen: () => frame(DISCONNECT_PACKET) },
  { name: "CONNACK accepted, no session [3.2]", bytes: S(0x20, 2, 0, 0) },
  { name: "CONNACK session present, refused: not authorized (5)", bytes: S(0x20, 2, 1, 5) },
  { name: "SUBACK id 1 granted QoS 1 [3.9]", bytes: S(0x90, 3, 0, 1, 1) },
  { name: "SUBACK id 1 failure 0x80", bytes: S(0x90, 3, 0, 1, 0x80) },
  { name: "UNSUBACK id 2 [3.11]", bytes: S(0xb0, 2, 0, 2) },
  { name: "PINGRESP [3.13]", bytes: S(0xd0, 0) }
];

for (const v of VECTORS) {
  test("vector: " + v.name, () => {
    const frame = frameOf(v.bytes);
    // parse: one packet, header and body as framed
    assert.deepEqual(parseChunks([v.bytes]), { packets: [frame], errors: [] });
    // split at every offset
    for (let k = 0; k <= v.bytes.length; k++) {
      assert.deepEqual(parseChunks([v.bytes.substring(0, k), v.bytes.substring(k)]).packets, [frame], "split at " + k);
    }
    if (v.gen) {
      // generate: exactly these bytes
      assert.equal(hex(v.gen()), hex(v.bytes));
      // round trip: generate, parse, decode the fields back, re-frame to the same bytes
      const got = parseChunks([v.gen()]).packets;
      assert.equal(got.length, 1);
      assert.deepEqual(fields(got[0][0], got[0][1]), fields(frame[0], frame[1]));
      assert.equal(hex(reframe(got[0][0], got[0][1])), hex(v.bytes));
    }
  });
}

test("round trip of decoded fields: CONNECT and PUBLISH carry what was asked", () => {
  const c = parseChunks([encodeConnect(CONNECT_FULL)]).packets[0];
  assert.deepEqual(fields(c[0], c[1]), CONNECT_FULL);
  const p = parseChunks([encodePublish("h/n/t", "\x00\xff", 1, true, false, 300)]).packets[0];
  assert.deepEqual(fields(p[0], p[1]), { topic: "h/n/t", qos: 1, retain: true, dup: false, id: 300, payload: "\x00\xff" });
});

test("all vectors concatenated: in one feed, byte by byte, and in chunks of 3", () => {
  const all = VECTORS.map((v) => v.bytes).join("");
  const want = VECTORS.map((v) => frameOf(v.bytes));
  assert.deepEqual(parseChunks([all]).packets, want);
  assert.deepEqual(parseChunks(all.split("")).packets, want);
  const threes: string[] = [];
  for (let i = 0; i < all.length; i += 3) threes.push(all.substring(i, i + 3));
  assert.deepEqual(parseChunks(threes).packets, want);
});

test("remaining length: 1 to 4 bytes at every boundary [2.2.3, table 2.4]", () => {
  const table: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2097151, [0xff, 0xff, 0x7f]],
    [2097152, [0x80, 0x80, 0x80, 0x01]],
    [268435455, [0xff, 0xff, 0xff, 0x7f]]
  ];
  // Real bodies up to 2 MB; past that a stand-in packet with the length of first byte + body but no body
  // bytes (frame() only reads its length, its first char and the rest as a substring), so the 4-byte
  // maximum is checked without a 256 MB string.
  const standIn = (n: number) => ({ length: n + 1, charAt: () => "\xe0", substring: () => "" }) as unknown as string;
  for (const [n, bytes] of table) {
    const pkt = frame(n <= 2097152 ? "\xe0" + "y".repeat(n) : standIn(n));
    if (n <= 2097152) assert.equal(pkt.length, 1 + bytes.length + n, String(n));
    assert.equal(hex(remainingLengthBytes(pkt)), Buffer.from(bytes).toString("hex"), String(n));
  }
  assert.throws(() => frame(standIn(268435456)), /^Error: MQTT remaining length 268435456 is outside 0\.\.268435455$/);
  // Parsing a 4-byte length: a PUBLISH of 2,097,152 body bytes, fed in 1000-byte pieces.
  const big = encodePublish("t", "y".repeat(2097152 - 3), 0, false, false, 0);
  assert.equal(hex(big.substring(0, 5)), "3080808001");
  const pieces: string[] = [];
  for (let i = 0; i < big.length; i += 1000) pieces.push(big.substring(i, i + 1000));
  const got = parseChunks(pieces);
  assert.equal(got.packets.length, 1);
  assert.equal(got.packets[0][1].length, 2097152);
});

test("malformed input: exact errors, parser stops until restarted", () => {
  const cases: [string, string][] = [
    [S(0x00, 0), "unknown packet type 0"],
    [S(0xf0, 0), "unknown packet type 15"],
    [S(0x41, 2, 0, 1), "bad flags 1 for packet type 4"],
    [S(0x60, 2, 0, 1), "bad flags 0 for packet type 6"], // PUBREL needs 0010 [3.6.1]
    [S(0x80, 8, 0, 1, 0, 3, "c/#", 1), "bad flags 0 for packet type 8"],
    [S(0x22, 2, 0, 0), "bad flags 2 for packet type 2"],
    [S(0x36, 5, 0, 1, "q", 0, 7), "PUBLISH with QoS 3"],
    [S(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), "bad remaining length (5th continuation byte)"]
  ];
  for (const [bytes, msg] of cases) {
    // followed by a valid PINGRESP that must NOT be parsed (the parser stopped)
    for (let k = 0; k <= bytes.length; k++) {
      const got = parseChunks([bytes.substring(0, k), bytes.substring(k) + S(0xd0, 0)]);
      assert.deepEqual(got, { packets: [], errors: [[msg, true]] }, msg + " split at " + k);
    }
  }
  // stopped, it ignores everything until _pn is set back to 0 (what the client does on a new link)
  const c = new Collect(100);
  feed(c, S(0x00, 0, 0xd0, 0));
  assert.equal(c._pn, P_STOPPED);
  feed(c, S(0xd0, 0));
  c._pn = 0;
  feed(c, S(0xd0, 0));
  assert.deepEqual(c.got, { packets: [[0xd0, ""]], errors: [["unknown packet type 0", true]] });
  // the sink can stop the parser from inside _on: the rest of that feed is ignored
  const stopper = new Collect(100);
  stopper._on = function (code: number, s?: string) {
    Collect.prototype._on.call(this, code, s);
    this._pn = P_STOPPED;
  };
  feed(stopper, S(0xd0, 0, 0xd0, 0) + encodePublish("t", "x", 0, false, false, 0));
  assert.deepEqual(stopper.got, { packets: [[0xd0, ""]], errors: [] });
});

test("oversized packet: reported, skipped without buffering, the next packet still parses", () => {
  const big = encodePublish("t", "z".repeat(20), 0, false, false, 0); // remaining length 23
  for (let k = 0; k <= big.length; k++) {
    const c = new Collect(22);
    feed(c, big.substring(0, k));
    // at most its first byte and remaining length wait for the rest of the header, never a body byte
    assert.ok((c._pb || "").length <= 1, "nothing of the skipped packet's body is buffered (split at " + k + ")");
    feed(c, big.substring(k) + S(0xd0, 0));
    assert.deepEqual(c.got, { packets: [[0xd0, ""]], errors: [["packet of 23 bytes is over the 22-byte limit (skipped)", false]] });
    assert.equal(c._pb, undefined, "nothing of the skipped packet is buffered");
    assert.equal(c._pn, undefined, "framing again once the packet is skipped: _pn unset (costs no JsVar)");
  }
  // exactly at the limit is accepted
  assert.equal(parseChunks([big], 23).packets.length, 1);
  // unset, the limit is 2048 (MAX_PACKET_BYTES)
  const dflt = new Collect(0);
  delete (dflt as any)._pmax;
  feed(dflt, encodePublish("t", "z".repeat(2045), 0, false, false, 0) + encodePublish("t", "z".repeat(2046), 0, false, false, 0));
  assert.deepEqual([dflt.got.packets.length, dflt.got.errors], [1, [["packet of 2049 bytes is over the 2048-byte limit (skipped)", false]]]);
});

/* ---- cross-checks with mqtt-packet (npm), both ways ---- */

function mpParse(bytes: string): any[] {
  const out: any[] = [];
  const p = mqttPacket.parser({ protocolVersion: 4 });
  p.on("packet", (x: any) => out.push(x));
  p.on("error", (e: any) => out.push({ error: e.message }));
  p.parse(Buffer.from(bytes, "latin1"));
  return out;
}

test("mqtt-packet parses what we generate to the same fields", () => {
  const [c] = mpParse(encodeConnect(CONNECT_FULL));
  assert.equal(c.cmd, "connect");
  assert.equal(c.protocolId, "MQTT");
  assert.equal(c.protocolVersion, 4);
  assert.equal(c.clientId, "n");
  assert.equal(c.clean, true);
  assert.equal(c.keepalive, 60);
  assert.equal(c.username, "u");
  assert.equal(c.password.toString(), "p");
  assert.deepEqual({ topic: c.will.topic, payload: c.will.payload.toString(), qos: c.will.qos, retain: c.will.retain }, CONNECT_FULL.will);
  const [m] = mpParse(encodeConnect(CONNECT_MIN));
  assert.deepEqual([m.clientId, m.clean, m.keepalive, m.username, m.password, m.will], ["node1", true, 30, undefined, undefined, undefined]);
  const [p] = mpParse(encodePublish("a/b", "21.5", 1, true, true, 513));
  assert.deepEqual([p.cmd, p.topic, p.payload.toString(), p.qos, p.retain, p.dup, p.messageId], ["publish", "a/b", "21.5", 1, true, true, 513]);
  const [s] = mpParse(encodeSubscribe(9, "c/+/x", 2));
  assert.deepEqual([s.cmd, s.messageId, s.subscriptions], ["subscribe", 9, [{ topic: "c/+/x", qos: 2 }]]);
  const [u] = mpParse(encodeUnsubscribe(10, "c/#"));
  assert.deepEqual([u.cmd, u.messageId, u.unsubscriptions], ["unsubscribe", 10, ["c/#"]]);
  for (const [type, cmd] of [[PUBACK, "puback"], [PUBREC, "pubrec"], [PUBREL, "pubrel"], [PUBCOMP, "pubcomp"]] as const) {
    const [a] = mpParse(encodeAck(type, 4242));
    assert.deepEqual([a.cmd, a.messageId], [cmd, 4242]);
  }
  assert.equal(mpParse(frame(PINGREQ_PACKET))[0].cmd, "pingreq");
  assert.equal(mpParse(frame(DISCONNECT_PACKET))[0].cmd, "disconnect");
});

test("we parse what mqtt-packet generates", () => {
  const gen = (o: any) => mqttPacket.generate(o).toString("latin1");
  const cases: [any, number, any][] = [
    [{ cmd: "connack", sessionPresent: true, returnCode: 4 }, 0x20, { type: 2, id: 0x0104, rest: "" }],
    [{ cmd: "publish", topic: "h/x", payload: Buffer.from([0, 255, 7]), qos: 1, retain: true, dup: true, messageId: 65535 }, 0x3b, { topic: "h/x", qos: 1, retain: true, dup: true, id: 65535, payload: "\x00\xff\x07" }],
    [{ cmd: "publish", topic: "h/y", payload: "", qos: 2, retain: false, dup: false, messageId: 2 }, 0x34, { topic: "h/y", qos: 2, retain: false, dup: false, id: 2, payload: "" }],
    [{ cmd: "suback", messageId: 3, granted: [0x80] }, 0x90, { type: 9, id: 3, rest: "\x80" }],
    [{ cmd: "unsuback", messageId: 4 }, 0xb0, { type: 11, id: 4, rest: "" }],
    [{ cmd: "pubrel", messageId: 5 }, 0x62, { type: 6, id: 5, rest: "" }],
    [{ cmd: "pingresp" }, 0xd0, { type: 13, id: -1, rest: "" }]
  ];
  for (const [obj, header, want] of cases) {
    const got = parseChunks([gen(obj)]);
    assert.equal(got.packets.length, 1, obj.cmd);
    assert.equal(got.packets[0][0], header, obj.cmd);
    assert.deepEqual(fields(got.packets[0][0], got.packets[0][1]), want, obj.cmd);
  }
});

/* ---- properties ---- */

const byteString = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString("latin1"));
const utf8Topic = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).filter((s) => !/[+#\u0000]/.test(s)).map((s) => Buffer.from(s, "utf8").toString("latin1"));
const publishArb = fc.record({
  topic: utf8Topic,
  payload: fc.oneof(byteString(300), byteString(20000)),
  qos: fc.integer({ min: 0, max: 2 }),
  retain: fc.boolean(),
  dup: fc.boolean(),
  id: fc.integer({ min: 1, max: 65535 })
});

/* Cut s at the given fractions into pieces (some empty). */
function cut(s: string, fractions: number[]): string[] {
  const at = fractions.map((f) => Math.floor(f * s.length)).sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const a of at) {
    out.push(s.substring(prev, a));
    prev = a;
  }
  out.push(s.substring(prev));
  return out;
}

test("property: random PUBLISH packets, concatenated and cut at random points, parse back to the same fields", () => {
  fc.assert(
    fc.property(fc.array(publishArb, { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (pubs, fr) => {
      const bytes = pubs.map((p) => encodePublish(p.topic, p.payload, p.qos, p.retain, p.dup && p.qos > 0, p.id)).join("");
      const got = parseChunks(cut(bytes, fr));
      assert.deepEqual(got.errors, []);
      assert.deepEqual(
        got.packets.map(([h, b]) => fields(h, b)),
        pubs.map((p) => ({ topic: p.topic, qos: p.qos, retain: p.retain, dup: p.dup && p.qos > 0, id: p.qos ? p.id : 0, payload: p.payload }))
      );
    }),
    { numRuns: 200 }
  );
});

test("property: mqtt-packet agrees with our PUBLISH/SUBSCRIBE encoding, and we parse its PUBLISH", () => {
  fc.assert(
    fc.property(publishArb, (p) => {
      const ours = encodePublish(p.topic, p.payload, p.qos, p.retain, p.dup && p.qos > 0, p.id);
      const [m] = mpParse(ours);
      assert.equal(m.topic, Buffer.from(p.topic, "latin1").toString("utf8"));
      assert.equal(Buffer.from(m.payload).toString("latin1"), p.payload);
      assert.deepEqual([m.qos, m.retain, m.dup, m.qos ? m.messageId : 0], [p.qos, p.retain, p.dup && p.qos > 0, p.qos ? p.id : 0]);
      const theirs = mqttPacket.generate({ cmd: "publish", topic: m.topic, payload: Buffer.from(p.payload, "latin1"), qos: p.qos as 0, retain: p.retain, dup: p.dup && p.qos > 0, messageId: p.id }).toString("latin1");
      assert.equal(hex(theirs), hex(ours));
      const [s] = mpParse(encodeSubscribe(p.id, p.topic, p.qos));
      assert.deepEqual([s.messageId, s.subscriptions[0].qos, s.subscriptions[0].topic], [p.id, p.qos, m.topic]);
    }),
    { numRuns: 200 }
  );
});

test("property: garbage never throws, and yields at most one fatal error", () => {
  fc.assert(
    fc.property(byteString(200), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (junk, fr) => {
      const got = parseChunks(cut(junk, fr), 64);
      assert.ok(got.errors.filter((e) => e[1]).length <= 1);
    }),
    { numRuns: 300 }
  );
});
