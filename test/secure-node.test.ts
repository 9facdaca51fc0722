/*
 * The documented Mosquitto setup (deploy/mosquitto/: password file, ACL, no anonymous) with the simulated
 * node itself (the built bundle), not only MQTT.js clients (those are in security.test.ts):
 *   - the node with its own credentials works: online, readings, and a pump command from the
 *     homeassistant user is obeyed;
 *   - a second node's credentials (MQTT.js logged in as node2) cannot command this pump: the relay stays
 *     off and the node sees nothing;
 *   - a node without credentials, or with a wrong password, is refused, says so, and retries with backoff.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/secure-node.test.ts
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { startSecureBroker, type SecureBroker } from "./helpers/secure-broker.ts";
import { startDevice, DEFAULT_BUNDLE, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

const USERS = { node1: "pw-node1-Xy7", node2: "pw-node2-Qz3", homeassistant: "pw-ha-Lm9" };
let sb: SecureBroker;

before(async () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  sb = await startSecureBroker(USERS);
});
after(async () => {
  await sb.broker.close();
});



function nodeConfig(id: string, username?: string, password?: string): any {
  const mqttCfg: any = { host: "127.0.0.1", port: sb.port, keepaliveSeconds: 5 };
  if (username !== undefined) mqttCfg.username = username;
  if (password !== undefined) mqttCfg.password = password;
  return {
    board: "esp8266",
    wifi: { ssid: "home", password: "wifi-secret" },
    mqtt: mqttCfg,
    device: { id, name: "Secure " + id },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
    pump: { pin: "D5", maxRunSeconds: 60, minOffSeconds: 0, interlocks: [] },
    homeassistant: { discovery: false }
  };
}

async function login(username: string, password: string): Promise<{ c: MqttClient; msgs: Array<{ topic: string; text: string }> }> {
  const c = await mqtt.connectAsync({ host: "127.0.0.1", port: sb.port, username, password, clientId: username + "-test", reconnectPeriod: 0 });
  const msgs: Array<{ topic: string; text: string }> = [];
  c.on("message", (topic, p) => msgs.push({ topic, text: p.toString("latin1") }));
  return { c, msgs };
}

test("the node with its own credentials: online, readings, pump obeys the homeassistant user; node2 cannot command it", { timeout: 30000 }, async () => {
  const ha = await login("homeassistant", USERS.homeassistant);
  const node2 = await login("node2", USERS.node2);
  let d: SimDevice | null = null;
  try {
    await ha.c.subscribeAsync("home/node1/#", { qos: 1 });
    d = await startDevice({ config: nodeConfig("node1", "node1", USERS.node1) });
    const dev = d;
    let relayOn = 0;
    const relayPin = dev.pinNumber("D5");
    dev.rt.pinListeners.push((pin, level) => {
      if (pin === relayPin && level === 1) relayOn++;
    });
    const got = (topic: string, text?: string) => ha.msgs.some((m) => m.topic === topic && (text === undefined || m.text === text));
    await until("node1 online", () => got("home/node1/status", "online"), 10000, dev);
    await until("node1 readings", () => got("home/node1/temperature") && got("home/node1/humidity") && got("home/node1/pressure"), 10000, dev);
    await until("node1 pump state", () => got("home/node1/pump", "OFF"), 5000, dev);

    // node2 is allowed to connect and publish under home/node2/, never on home/node1/pump/set: Mosquitto
    // drops the message silently (MQTT 3.1.1 has no way to tell the sender).
    for (const p of ["ON", "{\"state\":\"ON\"}", " on "]) await node2.c.publishAsync("home/node1/pump/set", p, { qos: 1 });
    await sleep(1500);
    assert.equal(relayOn, 0, "node2's commands never reached node1's relay");
    assert.equal(dev.console.some((l) => /pump: (ON|refused)/.test(l)), false, "node1 received nothing from node2:\n" + dev.console.join("\n"));
    assert.equal(ha.msgs.some((m) => m.topic === "home/node1/pump/set"), false, "the broker dropped them: not even Home Assistant (reading home/#) saw one");

    // The homeassistant user may command.
    await ha.c.publishAsync("home/node1/pump/set", "ON", { qos: 1 });
    await until("relay ON from homeassistant", () => dev.relay() === true && got("home/node1/pump", "ON"), 5000, dev);
    await ha.c.publishAsync("home/node1/pump/set", "OFF", { qos: 1 });
    await until("relay OFF from homeassistant", () => dev.relay() === false, 5000, dev);
    assert.equal(relayOn, 1);
    assert.deepEqual(dev.console.filter((l) => /Uncaught|not authorized|refused by the broker/.test(l)), [], "no refusal for anything the node does itself");
  } finally {
    if (d) await d.stop();
    await ha.c.endAsync(true);
    await node2.c.endAsync(true);
  }
});

for (const [name, user, pass] of [["without credentials (anonymous)", undefined, undefined], ["with a wrong password", "node1", "not-the-password"], ["with another node's password", "node1", USERS.node2]] as Array<[string, string | undefined, string | undefined]>) {
  test("a node " + name + " is refused, says so, retries with backoff, never appears online", { timeout: 20000 }, async () => {
    const ha = await login("homeassistant", USERS.homeassistant);
    let d: SimDevice | null = null;
    try {
      await ha.c.subscribeAsync("home/intruder/#", { qos: 1 });
      d = await startDevice({ config: nodeConfig("intruder", user, pass) });
      const dev = d;
      await until("two refusals", () => dev.console.filter((l) => /mqtt: connection refused: not authori[sz]ed|bad user name or password/i.test(l)).length >= 2, 10000, dev);
      const connects = dev.console.filter((l) => /mqtt: connected/.test(l));
      assert.deepEqual(connects, [], "never connected");
      assert.equal(ha.msgs.length, 0, "nothing published under its topics: " + ha.msgs.map((m) => m.topic).join(", "));
      if (pass) assert.equal(dev.console.some((l) => l.indexOf(pass) >= 0), false, "the password is not printed");
      assert.equal(dev.relay(), false);
    } finally {
      if (d) await d.stop();
      await ha.c.endAsync(true);
    }
  });
}
