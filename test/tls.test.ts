/*
 * TLS with the simulated node (the built bundle): on the ESP32 board with mqtt.tls true it connects to
 * the TLS listener of the documented Mosquitto setup (startSecureBroker(users, true): certificates made
 * at test time by deploy/mosquitto/make-certs.sh), logs in, publishes and obeys commands.
 *
 * Limitation, documented here on purpose: Espruino configures mbedtls with MBEDTLS_SSL_VERIFY_NONE, so the
 * node does NOT verify the broker's certificate (the simulator reproduces that, sim/README.md). TLS on
 * the node protects against passive eavesdropping on the Wifi, not against an active impostor: the last
 * test shows the node handing its login to a TLS server with a certificate from an unknown CA.
 * On the ESP8266 the config is refused (its Espruino build has no TLS): one device-level check here, the
 * rest is in config.test.ts and hostile-config.test.ts.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/tls.test.ts
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import mqtt from "mqtt";
import { startSecureBroker, type SecureBroker } from "./helpers/secure-broker.ts";
import { startDevice, DEFAULT_BUNDLE, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

const USERS = { tls1: "pw-tls1-Hk4", homeassistant: "pw-ha-Tt8" };
let sb: SecureBroker;

before(async () => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  sb = await startSecureBroker(USERS, true);
});
after(async () => {
  await sb.broker.close();
});



/*
 * Power cut with a TLS socket open makes the simulator throw ("This handle type cannot be sent":
 * sim/runtime.ts teardown calls resetAndDestroy(), which only TCP sockets have; reported in issue 7's
 * report). Until that is fixed, stop TLS devices once their sockets are closed: gracefully (DISCONNECT,
 * the broker closes) or after the test closed them from the server side.
 */
async function stopTls(d: SimDevice): Promise<void> {
  await d.stop({ graceful: true });
}

function nodeConfig(board: string, port: number): any {
  return {
    board,
    wifi: { ssid: "home", password: "wifi-secret" },
    mqtt: { host: "127.0.0.1", port, username: "tls1", password: USERS.tls1, tls: true, keepaliveSeconds: 5 },
    device: { id: "tls1", name: "TLS node" },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
    pump: { pin: board === "esp32" ? "GPIO26" : "D5", maxRunSeconds: 60, minOffSeconds: 0, interlocks: [] },
    homeassistant: { discovery: false }
  };
}

test("ESP32 with mqtt.tls: connects to Mosquitto's TLS listener, publishes, obeys the homeassistant user", { timeout: 30000 }, async () => {
  const ha = await mqtt.connectAsync({ protocol: "mqtts", host: "127.0.0.1", port: sb.tlsPort, ca: sb.ca, servername: "localhost", username: "homeassistant", password: USERS.homeassistant, reconnectPeriod: 0 });
  const msgs: Array<{ topic: string; text: string }> = [];
  ha.on("message", (topic, p) => msgs.push({ topic, text: p.toString() }));
  await ha.subscribeAsync("home/tls1/#", { qos: 1 });
  let d: SimDevice | null = null;
  try {
    const cfg = nodeConfig("esp32", sb.tlsPort);
    d = await startDevice({ config: cfg });
    const dev = d;
    assert.ok(dev.config, "the config validates for the ESP32");
    await dev.waitForConsole(/mqtt: connecting to 127\.0\.0\.1:\d+ \(tls\)/, 5000);
    const got = (t: string, text?: string) => msgs.some((m) => m.topic === "home/tls1/" + t && (text === undefined || m.text === text));
    await until("online over TLS", () => got("status", "online"), 15000, dev);
    await until("readings over TLS", () => got("temperature"), 5000, dev);
    await until("pump state", () => got("pump", "OFF"), 5000, dev);
    await ha.publishAsync("home/tls1/pump/set", "ON", { qos: 1 });
    await until("pump ON", () => dev.relay() === true && got("pump", "ON"), 5000, dev);
    assert.deepEqual(dev.console.filter((l) => /Uncaught/.test(l)), []);
  } finally {
    if (d) await stopTls(d);
    await ha.endAsync(true);
  }
});

test("the plain listener does not speak TLS: the ESP32 node pointed at it with tls true never comes online", { timeout: 20000 }, async () => {
  const d = await startDevice({ config: nodeConfig("esp32", sb.port) });
  try {
    await until("two failed attempts", () => d.console.filter((l) => /mqtt: closed/.test(l)).length >= 2, 10000, d);
    assert.equal(d.console.some((l) => /mqtt: connected/.test(l)), false);
  } finally {
    await d.stop();
  }
});

test("documented limitation: the node does not verify the broker's certificate (an impostor with an unknown CA gets its login)", { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "impostor-"));
  let server: ReturnType<typeof createTlsServer> | null = null;
  let d: SimDevice | null = null;
  try {
    execFileSync(resolve("deploy/mosquitto/make-certs.sh"), [dir, "localhost", "127.0.0.1"], { stdio: "ignore" });
    let connect: Buffer | null = null;
    const open: Array<{ destroy(): void }> = [];
    server = createTlsServer({ key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.crt")) }, (s) => {
      open.push(s);
      s.on("data", (b) => {
        if (!connect) connect = Buffer.from(b);
      });
      s.on("error", () => {});
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    d = await startDevice({ config: nodeConfig("esp32", (server.address() as any).port) });
    await until("the node's CONNECT at the impostor", () => connect !== null, 10000, d);
    assert.equal(connect![0] >> 4, 1, "an MQTT CONNECT");
    assert.ok(connect!.includes(Buffer.from(USERS.tls1)), "the CONNECT carries the password: TLS here protects against eavesdroppers, not impostors");
    for (const s of open) s.destroy();
    await until("the node's TLS socket closed", () => d!.rt.openSockets() === 0, 5000, d);
  } finally {
    if (d) await stopTls(d);
    if (server) await new Promise((r) => server!.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ESP8266 with mqtt.tls: refused at boot with a clear message, no socket", { timeout: 10000 }, async () => {
  const d = await startDevice({ config: nodeConfig("esp8266", sb.tlsPort) });
  try {
    await d.waitForConsole(/problem\(s\)/, 5000);
    assert.ok(d.console.some((l) => /mqtt\.tls is not available on NodeMCU v1 \(ESP8266\)/.test(l)), d.console.join("\n"));
    await sleep(500);
    assert.equal(d.rt.openSockets(), 0);
    assert.equal(d.console.some((l) => /mqtt: connecting/.test(l)), false);
  } finally {
    await d.stop();
  }
});
