// The documented Mosquitto setup (deploy/mosquitto/) really does what README promises, with MQTT.js
// clients standing in for the home-automation side and for nodes: anonymous refused, a node confined to
// its own topics, only the home-automation user commands pumps, TLS with a private CA.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { startSecureBroker, type SecureBroker } from "./helpers/secure-broker.ts";

let sb: SecureBroker;
const USERS = { node1: "pw-node1", node2: "pw-node2", homeassistant: "pw-ha" };

before(async () => {
  sb = await startSecureBroker(USERS, true);
});
after(async () => {
  await sb.broker.close();
});

function connect(opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: "127.0.0.1", port: sb.port, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once("connect", () => resolve(c));
    c.once("error", (e) => { c.end(true); reject(e); });
  });
}

/** Subscribe as `watcher`, publish as `sender`, report whether the message arrived within 500 ms. */
async function delivered(watcher: MqttClient, sender: MqttClient, topic: string): Promise<boolean> {
  await watcher.subscribeAsync(topic, { qos: 1 });
  const payload = "probe-" + Math.random();
  const got = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => { watcher.removeListener("message", on); resolve(false); }, 500);
    function on(tp: string, p: Buffer) {
      if (tp === topic && p.toString() === payload) { clearTimeout(t); watcher.removeListener("message", on); resolve(true); }
    }
    watcher.on("message", on);
  });
  await sender.publishAsync(topic, payload, { qos: 1 }).catch(() => {});
  const r = await got;
  await watcher.unsubscribeAsync(topic);
  return r;
}

test("anonymous clients are refused", async () => {
  await assert.rejects(connect({}), /Not authorized|Connection refused/);
});

test("a wrong password is refused", async () => {
  await assert.rejects(connect({ username: "node1", password: "nope" }), /Not authorized|Bad username or password|Connection refused/);
});

test("only the home-automation user can command node1's pump", async () => {
  const node1 = await connect({ username: "node1", password: USERS.node1, clientId: "node1" });
  const node2 = await connect({ username: "node2", password: USERS.node2, clientId: "node2" });
  const ha = await connect({ username: "homeassistant", password: USERS.homeassistant, clientId: "ha" });
  try {
    assert.equal(await delivered(node1, ha, "home/node1/pump/set"), true, "home assistant commands");
    assert.equal(await delivered(node1, node2, "home/node1/pump/set"), false, "another node cannot command");
    assert.equal(await delivered(ha, node2, "home/node1/pump"), false, "another node cannot fake node1's state");
    assert.equal(await delivered(ha, node1, "home/node1/pump"), true, "the node publishes its own state");
    assert.equal(await delivered(ha, node1, "home/node1/env/temperature"), true, "readings of a named sensor");
    assert.equal(await delivered(ha, node1, "homeassistant/switch/node1_pump/config"), true, "discovery");
    assert.equal(await delivered(node1, node2, "home/node2/status"), false, "a node cannot read another node's topics");
  } finally {
    for (const c of [node1, node2, ha]) await c.endAsync();
  }
});

test("TLS listener: trusted CA connects, unknown CA is refused", async () => {
  const ok = await new Promise<MqttClient>((resolve, reject) => {
    const c = mqtt.connect({ protocol: "mqtts", host: "127.0.0.1", port: sb.tlsPort, ca: sb.ca, servername: "localhost", username: "node1", password: USERS.node1, reconnectPeriod: 0 });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
  await ok.endAsync();
  await assert.rejects(new Promise((resolve, reject) => {
    const c = mqtt.connect({ protocol: "mqtts", host: "127.0.0.1", port: sb.tlsPort, username: "node1", password: USERS.node1, reconnectPeriod: 0, rejectUnauthorized: true });
    c.once("connect", () => { c.end(true); resolve(c); });
    c.once("error", (e) => { c.end(true); reject(e); });
  }), /self.signed|unable to verify|certificate/i);
});
