/*
 * MqttClient against a real Mosquitto (test/helpers/mosquitto.ts) over real TCP (test/helpers/nodelink.ts),
 * with MQTT.js as the home-automation side. Each test is one named behaviour, bounded in time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { Broker } from "./helpers/mosquitto";
import { NodeNet, realClock } from "./helpers/nodelink";
import { MqttClient, type MqttOptions } from "../firmware/mqtt/client";

const T = { timeout: 30000 };

function waitFor(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() > until) return reject(new Error("timed out waiting for " + what));
      setTimeout(check, 20);
    };
    check();
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function node(port: number, extra: Partial<MqttOptions> = {}) {
  const options: MqttOptions = {
    clientId: "node-" + Math.random().toString(16).slice(2, 8), username: "", password: "", keepaliveSeconds: 30, cleanSession: true,
    will: { topic: "n/status", payload: "offline", qos: 1, retain: true },
    backoffMinMs: 100, backoffMaxMs: 500, connackTimeoutMs: 2000, ...extra
  };
  const net = new NodeNet(port);
  const client = new MqttClient(net.connector, realClock, options);
  const ev = { connects: 0, sessions: [] as boolean[], closes: [] as string[], errors: [] as string[], msgs: [] as { topic: string; payload: string; retained: boolean; qos: number; dup: boolean }[] };
  client.onConnect = (sp) => {
    ev.connects++;
    ev.sessions.push(sp);
  };
  client.onClose = (r) => ev.closes.push(r);
  client.onError = (m) => ev.errors.push(m);
  client.onMessage = (topic, payload, retained, qos, dup) => ev.msgs.push({ topic, payload, retained, qos, dup });
  return { client, net, ev, options };
}

/* The home-automation side: MQTT.js, collecting what arrives on its subscriptions. */
async function homeAssistant(broker: Broker, topics: string[]) {
  const ha = mqtt.connect(broker.url, { reconnectPeriod: 100, connectTimeout: 2000 });
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  ha.on("message", (topic, payload, packet) => got.push({ topic, payload: payload.toString("latin1"), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    ha.once("connect", () => ha.subscribe(topics, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    ha.once("error", reject);
  });
  return { ha, got };
}

test("connect with username/password; wrong password refused by name and retried; no credentials refused", T, async () => {
  const pwDir = mkdtempSync(join(tmpdir(), "mqttpw-"));
  const pwFile = join(pwDir, "passwd");
  execFileSync("/usr/bin/mosquitto_passwd", ["-b", "-c", pwFile, "pump", "s3cret"]);
  const broker = await Broker.start({ listenerConfig: "listener {PORT} 127.0.0.1\nallow_anonymous false\npassword_file " + pwFile + "\n" });
  try {
    const good = node(broker.port, { username: "pump", password: "s3cret" });
    good.client.start();
    await waitFor("CONNACK", () => good.client.connected);
    assert.deepEqual(good.ev.sessions, [false]);
    assert.deepEqual(good.ev.errors, []);
    good.client.end();

    const bad = node(broker.port, { username: "pump", password: "wrong" });
    bad.client.start();
    await waitFor("two refusals", () => bad.ev.errors.length >= 2);
    bad.client.end();
    assert.equal(bad.ev.errors[0], "connection refused: not authorized");
    assert.equal(bad.ev.connects, 0);
    assert.ok(bad.net.sockets.length >= 2, "retried");

    const anon = node(broker.port);
    anon.client.start();
    await waitFor("refusal", () => anon.ev.errors.length >= 1);
    anon.client.end();
    assert.equal(anon.ev.errors[0], "connection refused: not authorized");
  } finally {
    await broker.close();
    rmSync(pwDir, { recursive: true, force: true });
  }
});

test("retained command arrives flagged retained, a live one not; QoS and payload bytes intact", T, async () => {
  const broker = await Broker.start();
  const { ha } = await homeAssistant(broker, ["unused/x"]);
  try {
    await ha.publishAsync("n/pump/set", Buffer.from("ON\xb0", "latin1"), { qos: 1, retain: true });
    const n = node(broker.port);
    n.client.subscribe("n/pump/set", 1);
    n.client.start();
    await waitFor("retained message", () => n.ev.msgs.length >= 1);
    assert.deepEqual(n.ev.msgs[0], { topic: "n/pump/set", payload: "ON\xb0", retained: true, qos: 1, dup: false });
    await ha.publishAsync("n/pump/set", "OFF", { qos: 0 });
    await waitFor("live message", () => n.ev.msgs.length >= 2);
    assert.deepEqual(n.ev.msgs[1], { topic: "n/pump/set", payload: "OFF", retained: false, qos: 0, dup: false });
    // our publishes reach the other side with the retain flag we chose
    const seen = await homeAssistant(broker, ["n/t/#"]);
    n.client.publish("n/t/a", "21.5", 1, true);
    n.client.publish("n/t/b", "22", 0, false);
    await waitFor("our publishes", () => seen.got.length >= 2);
    assert.deepEqual(seen.got.sort((a, b) => (a.topic < b.topic ? -1 : 1)), [
      { topic: "n/t/a", payload: "21.5", retain: false }, // live delivery to a subscriber: retain 0 [3.3.1.3]
      { topic: "n/t/b", payload: "22", retain: false }
    ]);
    const late = await homeAssistant(broker, ["n/t/a"]);
    await waitFor("retained copy", () => late.got.length >= 1);
    assert.deepEqual(late.got[0], { topic: "n/t/a", payload: "21.5", retain: true });
    n.client.end();
    seen.ha.end(true);
    late.ha.end(true);
  } finally {
    ha.end(true);
    await broker.close();
  }
});

test("Will is published when the socket dies abruptly, and not after end()", T, async () => {
  const broker = await Broker.start();
  const { ha, got } = await homeAssistant(broker, ["n/status", "m/status"]);
  try {
    const n = node(broker.port);
    n.client.start();
    await waitFor("connect", () => n.client.connected);
    n.net.last()!.resetAndDestroy();
    await waitFor("the Will", () => got.length >= 1);
    assert.deepEqual(got[0], { topic: "n/status", payload: "offline", retain: false });
    await waitFor("reconnect", () => n.ev.connects === 2);
    n.client.end();

    const m = node(broker.port, { will: { topic: "m/status", payload: "offline", qos: 1, retain: false } });
    m.client.start();
    await waitFor("connect", () => m.client.connected);
    m.client.publish("m/status", "online", 1, false);
    await waitFor("online", () => got.some((x) => x.topic === "m/status"));
    m.client.end();
    await sleep(1500);
    assert.deepEqual(got.filter((x) => x.topic === "m/status").map((x) => x.payload), ["online"], "no Will after end()");
    assert.equal(m.ev.closes.length, 1);
  } finally {
    ha.end(true);
    await broker.close();
  }
});

test("broker frozen with SIGSTOP: link declared dead within 1.5x keepalive, reconnected after SIGCONT", T, async () => {
  const broker = await Broker.start();
  try {
    const n = node(broker.port, { keepaliveSeconds: 2 });
    n.client.start();
    await waitFor("connect", () => n.client.connected);
    await sleep(2500); // let a PINGREQ/PINGRESP round happen
    assert.equal(n.client.connected, true);
    broker.pause();
    const frozenAt = Date.now();
    await waitFor("dead link", () => n.ev.closes.length >= 1, 6000);
    const took = Date.now() - frozenAt;
    assert.match(n.ev.closes[0], /^keepalive timeout: nothing received for 3(\.\d+)? s$/);
    assert.ok(took <= 3000 + 300, "noticed " + took + " ms after the freeze (1.5 x 2 s = 3000 ms, plus timer slack)");
    broker.resume();
    await waitFor("reconnect", () => n.ev.connects === 2, 10000);
    assert.ok(n.net.open() <= 1 + 1, "at most the live socket and one still closing");
    n.client.end();
  } finally {
    broker.resume();
    await broker.close();
  }
});

test("broker restart: reconnect, subscriptions restored (no session), QoS 1 published while down delivered", T, async () => {
  const broker = await Broker.start();
  try {
    const n = node(broker.port);
    n.client.subscribe("n/cmd", 1);
    n.client.start();
    await waitFor("connect", () => n.client.connected);
    await broker.stop();
    await waitFor("link down", () => !n.client.connected);
    assert.equal(n.client.publish("n/t", "42", 1, true), true, "QoS 1 queued while down");
    assert.equal(n.client.publish("n/q0", "x", 0, false), false, "QoS 0 dropped while down");
    await broker.startAgain(); // same port again
    await waitFor("reconnect", () => n.ev.connects === 2, 10000);
    assert.deepEqual(n.ev.sessions, [false, false]);
    const { ha, got } = await homeAssistant(broker, ["n/t"]);
    await waitFor("queued QoS 1 message", () => got.length >= 1);
    assert.deepEqual(got[0], { topic: "n/t", payload: "42", retain: true });
    await ha.publishAsync("n/cmd", "ON", { qos: 1 });
    await waitFor("message on the restored subscription", () => n.ev.msgs.length >= 1);
    assert.deepEqual(n.ev.msgs[0], { topic: "n/cmd", payload: "ON", retained: false, qos: 1, dup: false });
    assert.deepEqual(n.ev.errors, []);
    n.client.end();
    ha.end(true);
  } finally {
    await broker.close();
  }
});
