/*
 * MqttClient connection logic (firmware/mqtt/client.ts) driven by a fake clock and in-memory links:
 * CONNECT/CONNACK, refusals, CONNACK timeout, keepalive tick by tick, backoff sequence, in-flight bound,
 * DUP resend, subscription restore, inbound QoS 1/2, caller mistakes, protocol errors, end(), leaks.
 * Expected packets come from test/helpers/mqttpackets.ts; CONNECT from mqtt-packet, independently of ours.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { MqttClient, type MqttOptions } from "../firmware/mqtt/client";
import { referenceConnect, encodePublish, encodeSubscribe, encodeAck, encodeUnsubscribe } from "./helpers/mqttpackets";
import { PUBACK, PUBREC, PUBREL, PUBCOMP } from "../firmware/mqtt/packet";
import { FakeClock } from "./helpers/fakeclock";
import { LINK_CLOSE } from "../firmware/types";
import { MemNet, type MemLink } from "./helpers/memlink";

const S = (...parts: (number | string)[]) => parts.map((p) => (typeof p === "string" ? p : String.fromCharCode(p))).join("");
const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");
const CONNACK = (sp: number, rc: number) => S(0x20, 2, sp, rc);
const PINGREQ = S(0xc0, 0);
const PINGRESP = S(0xd0, 0);

const realRandom = Math.random;
afterEach(() => {
  Math.random = realRandom;
});

function setup(extra: Partial<MqttOptions> = {}) {
  const options: MqttOptions = { clientId: "c1", username: "", password: "", keepaliveSeconds: 10, cleanSession: true, will: { topic: "n/status", payload: "offline", qos: 1, retain: true }, ...extra };
  const clock = new FakeClock(1000);
  const net = new MemNet();
  const client = new MqttClient(net.connector, clock, options);
  const log: string[] = [];
  client.onConnect = (sp) => log.push("connect " + sp);
  client.onClose = (r) => log.push("close " + r);
  client.onError = (m) => log.push("error " + m);
  client.onMessage = (t, p, r, q, d) => log.push("msg " + [t, p, r, q, d].join(" "));
  /* Start (or wait for the retry), open the new link, answer CONNACK; returns the link with its output taken. */
  const up = (sp = 0): MemLink => {
    if (net.links.length === 0 || !net.last().alive) {
      if (net.links.length === 0 && net.attempts === 0) client.start();
      else clock.runNext();
    }
    const l = net.last();
    l.open();
    assert.equal(hex(l.takeWritten()), hex(referenceConnect(options)));
    l.push(CONNACK(sp, 0));
    return l;
  };
  return { options, clock, net, client, log, up };
}

test("CONNECT on open, connected only after CONNACK accepts", () => {
  const { client, net, clock, log, options } = setup();
  client.start();
  assert.equal(net.attempts, 1);
  const l = net.last();
  assert.equal(l.takeWritten(), "", "nothing before the link opens");
  l.open();
  assert.equal(hex(l.takeWritten()), hex(referenceConnect(options)));
  assert.equal(client.connected, false);
  clock.tick(500);
  l.push(CONNACK(0, 0).substring(0, 3)); // split CONNACK
  assert.equal(client.connected, false);
  l.push(CONNACK(0, 0).substring(3));
  assert.equal(client.connected, true);
  assert.deepEqual(log, ["connect false"]);
  client.start(); // no second link
  assert.equal(net.attempts, 1);
});

test("CONNACK refusals are reported by name, the link closed and retried with backoff", () => {
  const names = ["unacceptable protocol version", "identifier rejected", "server unavailable", "bad username or password", "not authorized", "return code 6"];
  for (let rc = 1; rc <= 6; rc++) {
    const { client, net, log, clock } = setup();
    Math.random = () => 0;
    client.start();
    net.last().open();
    net.last().push(CONNACK(0, rc));
    assert.deepEqual(log, ["error connection refused: " + names[rc - 1], "close connection refused: " + names[rc - 1]]);
    assert.equal(client.connected, false);
    assert.equal(net.last().closedByClient, true);
    assert.equal(clock.next(), 1000);
    clock.tick(1000);
    assert.equal(net.attempts, 2);
  }
});

test("CONNACK timeout: 10 s after the attempt began, whether or not the link opened", () => {
  const { client, net, clock, log } = setup();
  Math.random = () => 0;
  client.start();
  clock.tick(9999);
  assert.deepEqual(log, []);
  clock.tick(1);
  assert.deepEqual(log, ["error no CONNACK within 10000 ms", "close no CONNACK within 10000 ms"]);
  assert.equal(net.links[0].closedByClient, true);
  clock.tick(1000); // retry
  net.last().open();
  clock.tick(9999);
  assert.equal(log.length, 2);
  clock.tick(1);
  assert.equal(log.length, 4);
  assert.equal(net.alive(), 0);
});

test("keepalive tick by tick: PINGREQ after 10 s without sending, dead after 15 s without receiving", () => {
  const { clock, up, log } = setup({ keepaliveSeconds: 10 });
  const l = up();
  l.takeWritten();
  clock.tick(9999);
  assert.equal(l.takeWritten(), "");
  clock.tick(1);
  assert.equal(hex(l.takeWritten()), hex(PINGREQ), "PINGREQ at exactly 10 s");
  clock.tick(300);
  l.push(PINGRESP);
  clock.tick(9699);
  assert.equal(l.takeWritten(), "");
  clock.tick(1);
  assert.equal(hex(l.takeWritten()), hex(PINGREQ), "next PINGREQ 10 s after the last one sent");
  // no answer now: dead 15 s after the PINGRESP (received at 10.3 s), i.e. at 25.3 s, 5.3 s from here
  clock.tick(5299);
  assert.equal(l.alive, true);
  assert.deepEqual(log, ["connect false"]);
  clock.tick(1);
  assert.equal(l.alive, false);
  assert.deepEqual(log, ["connect false", "close keepalive timeout: nothing received for 15 s"]);
});

test("keepalive: a node that only publishes still pings (nothing received) and is not declared dead", () => {
  const { clock, up, client, log } = setup({ keepaliveSeconds: 10 });
  const l = up();
  l.takeWritten();
  let pings = 0;
  for (let t = 0; t < 60000; t += 200) {
    clock.tick(200);
    client.publish("n/t", "21.5", 0, false);
    const w = l.takeWritten();
    if (w.indexOf(PINGREQ) >= 0) {
      pings++;
      l.push(PINGRESP);
    }
  }
  assert.equal(pings, 6);
  assert.equal(client.connected, true);
  assert.deepEqual(log, ["connect false"]);
});

test("keepalive 0 turns pings and the dead-link check off", () => {
  const { clock, up, client } = setup({ keepaliveSeconds: 0 });
  const l = up();
  l.takeWritten();
  clock.tick(3600000);
  assert.equal(l.takeWritten(), "");
  assert.equal(client.connected, true);
  assert.equal(clock.pending(), 0);
});

test("backoff: 1 s doubling to 60 s, jitter up to a quarter, connector throwing counts as a failed attempt", () => {
  const { client, net, clock, log } = setup();
  Math.random = () => 0;
  net.failNext = "Unable to create socket";
  client.start();
  assert.deepEqual(log, ["close connect failed: Unable to create socket"]);
  const waits: number[] = [];
  for (let i = 0; i < 9; i++) {
    waits.push(clock.next());
    net.failNext = "Unable to create socket";
    clock.runNext();
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(net.attempts, 10);
  // jitter: random 0.999 takes just under a quarter off
  Math.random = () => 0.999;
  net.failNext = "x";
  clock.runNext();
  assert.equal(clock.next(), 60000 - Math.floor(0.999 * 15000));
});

test("backoff resets after a connection that lasted 30 s, not after a short one", () => {
  const { clock, net, up } = setup({ keepaliveSeconds: 0 });
  Math.random = () => 0;
  let l = up();
  for (let i = 0; i < 3; i++) {
    // short connections: the delay keeps growing
    l.drop("reset");
    clock.runNext();
    l = net.last();
    l.open();
    l.push(CONNACK(0, 0));
  }
  clock.tick(29999);
  l.drop("reset");
  assert.equal(clock.next(), 8000, "after 1000, 2000, 4000");
  clock.runNext();
  l = net.last();
  l.open();
  l.push(CONNACK(0, 0));
  clock.tick(30000);
  l.drop("reset");
  assert.equal(clock.next(), 1000);
});

test("QoS 1 in flight: bounded; full list drops with false and onError; PUBACK frees a slot", () => {
  const { client, up, log } = setup({ maxInflight: 2 });
  const l = up();
  l.takeWritten();
  assert.equal(client.publish("a", "1", 1, false), true);
  assert.equal(client.publish("a", "2", 1, false), true);
  assert.equal(hex(l.takeWritten()), hex(encodePublish("a", "1", 1, false, false, 1) + encodePublish("a", "2", 1, false, false, 2)));
  assert.equal(client.publish("a", "3", 1, false), false);
  assert.equal(l.takeWritten(), "");
  assert.deepEqual(log.slice(1), ["error in-flight list full (2 QoS 1 messages awaiting PUBACK): message to a dropped"]);
  l.push(encodeAck(PUBACK, 1));
  assert.equal(client.publish("a", "4", 1, true), true);
  assert.equal(hex(l.takeWritten()), hex(encodePublish("a", "4", 1, true, false, 3)));
});

test("QoS 1 resent after reconnect: DUP on those already sent, not on those queued offline; PUBACK ends it", () => {
  const { client, clock, net, up } = setup();
  Math.random = () => 0;
  let l = up();
  l.takeWritten();
  client.publish("a", "sent", 1, false);
  l.takeWritten();
  l.drop("reset");
  assert.equal(client.publish("a", "offline", 1, true), true);
  assert.equal(client.publish("a", "q0", 0, false), false, "QoS 0 offline is dropped");
  clock.runNext();
  l = net.last();
  l.open();
  l.takeWritten();
  l.push(CONNACK(0, 0));
  assert.equal(hex(l.takeWritten()), hex(encodePublish("a", "sent", 1, false, true, 1) + encodePublish("a", "offline", 1, true, false, 2)));
  l.push(encodeAck(PUBACK, 1));
  l.drop("again");
  clock.runNext();
  l = net.last();
  l.open();
  l.takeWritten();
  l.push(CONNACK(1, 0));
  assert.equal(hex(l.takeWritten()), hex(encodePublish("a", "offline", 1, true, true, 2)), "only the unacknowledged one, now with DUP");
  l.push(encodeAck(PUBACK, 2));
  l.drop("again");
  clock.runNext();
  net.last().open();
  net.last().takeWritten();
  net.last().push(CONNACK(0, 0));
  assert.equal(net.last().takeWritten(), "");
});

test("subscriptions: sent when connected, restored only when the broker has no session (or SUBACK never came)", () => {
  const { client, clock, net, up, log } = setup();
  Math.random = () => 0;
  client.subscribe("n/pump/set", 1); // offline: remembered
  let l = up();
  assert.equal(hex(l.takeWritten()), hex(encodeSubscribe(1, "n/pump/set", 1)));
  l.push(S(0x90, 3, 0, 1, 1));
  const reconnect = (sp: number) => {
    l.drop("reset");
    clock.runNext();
    l = net.last();
    l.open();
    l.takeWritten();
    l.push(CONNACK(sp, 0));
    return l.takeWritten();
  };
  assert.equal(reconnect(1), "", "session present: nothing to restore");
  assert.equal(hex(reconnect(0)), hex(encodeSubscribe(2, "n/pump/set", 1)), "no session: restored");
  // that SUBACK never came: sent again even though the session is present
  assert.equal(hex(reconnect(1)), hex(encodeSubscribe(3, "n/pump/set", 1)));
  l.push(S(0x90, 3, 0, 3, 0x80));
  assert.deepEqual(log.filter((x) => x.startsWith("error")), ["error subscribe to n/pump/set refused by the broker (SUBACK 0x80)"]);
  client.unsubscribe("n/pump/set");
  assert.equal(hex(l.takeWritten()), hex(encodeUnsubscribe(4, "n/pump/set")));
  l.push(S(0xb0, 2, 0, 4));
  assert.equal(reconnect(0), "", "forgotten after unsubscribe");
});

test("inbound PUBLISH: flags delivered; QoS 1 acknowledged after delivery; QoS 2 delivered once (PUBREC/PUBREL/PUBCOMP)", () => {
  const { up, log } = setup();
  const l = up();
  l.takeWritten();
  l.push(encodePublish("n/pump/set", "ON", 0, true, false, 0));
  l.push(encodePublish("n/pump/set", "OFF", 1, false, true, 77));
  assert.equal(hex(l.takeWritten()), hex(encodeAck(PUBACK, 77)));
  const q2 = encodePublish("x", "once", 2, false, false, 5);
  l.push(q2);
  assert.equal(hex(l.takeWritten()), hex(encodeAck(PUBREC, 5)));
  l.push(encodePublish("x", "once", 2, false, true, 5)); // broker resends before PUBREL
  assert.equal(hex(l.takeWritten()), hex(encodeAck(PUBREC, 5)));
  l.push(encodeAck(PUBREL, 5));
  assert.equal(hex(l.takeWritten()), hex(encodeAck(PUBCOMP, 5)));
  l.push(q2); // a new message reusing id 5
  assert.deepEqual(log.slice(1), ["msg n/pump/set ON true 0 false", "msg n/pump/set OFF false 1 true", "msg x once false 2 false", "msg x once false 2 false"]);
});

test("caller mistakes throw and send nothing", () => {
  const { client, up } = setup();
  const l = up();
  l.takeWritten();
  assert.throws(() => client.publish("a/+/b", "1", 0, false), /^Error: publish: topic must be a non-empty string without \+ or #, got "a\/\+\/b"$/);
  assert.throws(() => client.publish("a/#", "1", 0, false), /without \+ or #/);
  assert.throws(() => client.publish("", "1", 0, false), /non-empty string/);
  assert.throws(() => client.publish(5 as any, "1", 0, false), /got number/);
  assert.throws(() => client.publish("a", 21.5 as any, 0, false), /^Error: publish: payload must be a string, got number$/);
  assert.throws(() => client.publish("a", "1", 2, false), /^Error: publish: qos must be 0 or 1, got 2$/);
  assert.throws(() => client.subscribe("", 0), /subscribe: topic must be a non-empty string/);
  assert.throws(() => client.subscribe("a", 3), /subscribe: qos must be 0, 1 or 2, got 3/);
  // A topic is sent with a 2-byte length (section 1.5.3): 65535 bytes at most.
  const long = "y".repeat(65536);
  assert.throws(() => client.publish(long, "1", 0, false), /^Error: publish: topic must be a non-empty string/);
  assert.throws(() => client.subscribe(long, 0), /^Error: subscribe: topic must be a non-empty string/);
  assert.throws(() => client.unsubscribe(long), /^Error: unsubscribe: topic must be a non-empty string/);
  assert.throws(() => new MqttClient(() => null as any, new FakeClock(), { clientId: "x", username: "", password: "p", keepaliveSeconds: 5, cleanSession: true, will: null }), /needs a username/);
  assert.equal(l.takeWritten(), "");
});

test("bad input from the broker: exact error, link closed, retried", () => {
  const cases: [string, string, Partial<MqttOptions>?][] = [
    [S(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), "bad remaining length (5th continuation byte)"],
    [S(0x00, 0), "unknown packet type 0"],
    [S(0x41, 2, 0, 1), "bad flags 1 for packet type 4"],
    [S(0x30, 3, 0, 5, "a"), "truncated PUBLISH"],
    [S(0x32, 5, 0, 1, "a", 0, 0), "PUBLISH with packet id 0"],
    [S(0x40, 3, 0, 1, 0), "bad length 3 for packet type 4"],
    [S(0x20, 2, 0, 0), "unexpected CONNACK"],
    [S(0xc0, 0), "unexpected packet type 12 from the broker"],
    [encodePublish("t", "x".repeat(100), 0, false, false, 0), "packet of 103 bytes is over the 100-byte limit (skipped)", { maxPacketBytes: 100 }]
  ];
  for (const [bytes, msg, extra] of cases) {
    const { up, clock, net, log } = setup(extra);
    Math.random = () => 0;
    const l = up();
    l.push(bytes + encodePublish("t", "after", 0, false, false, 0));
    assert.deepEqual(log, ["connect false", "error " + msg, "close " + msg], msg);
    assert.equal(l.closedByClient, true);
    clock.tick(1000);
    assert.equal(net.attempts, 2, "retried");
  }
  // before CONNACK
  const { client, net, log } = setup();
  client.start();
  net.last().open();
  net.last().push(encodePublish("t", "early", 0, false, false, 0));
  assert.deepEqual(log, ["error packet type 3 before CONNACK", "close packet type 3 before CONNACK"]);
  const c2 = setup();
  c2.client.start();
  c2.net.last().open();
  c2.net.last().push(S(0x20, 3, 0, 0, 0));
  assert.deepEqual(c2.log, ["error bad CONNACK length 3", "close bad CONNACK length 3"]);
});

test("end(): DISCONNECT, link closed, onClose once, no reconnect, no timer left", () => {
  const { client, up, clock, net, log } = setup();
  const l = up();
  l.takeWritten();
  client.end();
  assert.equal(hex(l.takeWritten()), "e000");
  assert.equal(l.closedByClient, true);
  assert.equal(client.connected, false);
  assert.deepEqual(log, ["connect false", "close ended by the client"]);
  assert.equal(clock.pending(), 0);
  clock.tick(600000);
  assert.equal(net.attempts, 1);
  l.drop("late event"); // must not reach the client
  assert.equal(l.eventsAfterClose, 1);
  assert.deepEqual(log, ["connect false", "close ended by the client"]);
  // end() while waiting to retry: no DISCONNECT, no onClose, no timer
  const b = setup();
  b.net.failNext = "refused";
  b.client.start();
  b.client.end();
  assert.equal(b.clock.pending(), 0);
  // start() again after end() works
  b.client.start();
  assert.equal(b.net.attempts, 2);
});

test("end() from inside onMessage stops parsing the rest of the data", () => {
  const { client, up, log } = setup();
  const l = up();
  client.onMessage = (t) => {
    log.push("msg " + t);
    client.end();
  };
  l.push(encodePublish("a", "1", 0, false, false, 0) + encodePublish("b", "2", 1, false, false, 9));
  assert.deepEqual(log, ["connect false", "msg a", "close ended by the client"]);
});

test("hundreds of reconnects: one link at a time, one timer at most, no stale clears, no events after close", () => {
  const { client, clock, net, up } = setup({ backoffMaxMs: 4000 });
  client.subscribe("s", 1);
  let l = up();
  for (let i = 0; i < 300; i++) {
    assert.ok(clock.pending() <= 1);
    if (i % 3 === 0) l.drop("reset");
    else if (i % 3 === 1) clock.tick(15000); // keepalive timeout closes it
    else l.push(S(0x00, 0)); // protocol error closes it
    assert.equal(net.alive(), 0);
    assert.equal(clock.pending(), 1);
    clock.runNext();
    assert.equal(net.alive(), 1);
    l = net.last();
    l.open();
    l.push(CONNACK(0, 0));
    l.push(S(0x90, 3, 0, 0, 0)); // unknown id: ignored
    assert.equal(client.connected, true);
  }
  client.end();
  assert.equal(clock.pending(), 0);
  assert.equal(clock.staleClears, 0);
  assert.equal(net.links.reduce((n, x) => n + x.eventsAfterClose, 0), 0);
});

test("a connector that reports LINK_CLOSE synchronously: the returned link is ignored, a retry is scheduled", () => {
  const clock = new FakeClock();
  const links: { closed: boolean; written: string[] }[] = [];
  const client = new MqttClient(
    (events) => {
      events._on(LINK_CLOSE, "refused at once");
      const l = { closed: false, written: [] as string[], write(d: string) { this.written.push(d); }, close() { this.closed = true; } };
      links.push(l);
      return l;
    },
    clock,
    { clientId: "c", username: "", password: "", keepaliveSeconds: 10, cleanSession: true, will: null }
  );
  const closes: string[] = [];
  client.onClose = (r) => closes.push(r);
  client.start();
  assert.deepEqual(closes, ["refused at once"]);
  client.publish("a", "1", 1, false);
  assert.deepEqual(links[0].written, [], "nothing written to the dead link");
  assert.equal(clock.pending(), 1);
  clock.runNext();
  assert.equal(links.length, 2);
  client.end();
  assert.deepEqual(links.map((l) => l.closed), [false, false], "a link that reported its close is never touched again");
});
