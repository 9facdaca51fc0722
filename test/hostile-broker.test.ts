/*
 * A hostile "broker": a small TCP server on 127.0.0.1 written here (node:net), which the simulated node
 * (the built bundle) connects to as if it were Mosquitto. Each scenario answers the node's CONNECT with
 * something a broker must never send: garbage, a truncated packet then silence, a remaining length of
 * 268,435,455 bytes, a flood of retained PUBLISH messages (some large), an unknown packet type.
 * Each time the node must: not crash (no "Uncaught" on its console), keep its memory estimate bounded,
 * close the link and connect again with growing delays (backoff), and keep the pump off.
 * The scenarios run concurrently, each with its own server and device.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/hostile-broker.test.ts
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import fc from "fast-check";
import { startDevice, DEFAULT_BUNDLE, type SimDevice } from "../sim/api.ts";
import { sleep, until } from "./helpers/sim-fixtures.ts";

/** The steady-state budget of the whole firmware (ARCHITECTURE.md), as the simulator estimates it. */
const MEMORY_BOUND = 640;



/** MQTT fixed header + remaining length (section 2.2.3). */
function packet(header: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([header, ...len]), body]);
}

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** PUBLISH QoS 0 (or 1 with id), retained. */
function publish(topic: string, payload: Buffer, qos: number, id: number): Buffer {
  const t = Buffer.from(topic, "latin1");
  const parts: Buffer[] = [Buffer.from([t.length >> 8, t.length & 255]), t];
  if (qos) parts.push(Buffer.from([id >> 8, id & 255]));
  parts.push(payload);
  return packet(0x30 | (qos << 1) | 1, Buffer.concat(parts));
}

interface Hostile {
  server: Server;
  port: number;
  /** Date.now() of each connection the node opened. */
  connections: number[];
  /** Date.now() when the node closed each connection (by index), once it did. */
  closedAt: number[];
  /** Bytes the node sent on each connection. */
  received: Buffer[];
}

/**
 * A server that waits for the node's CONNECT (first bytes), then runs `act` for the n-th connection.
 * It reads and discards whatever the node sends afterwards.
 */
async function hostile(act: (sock: Socket, n: number) => void): Promise<Hostile> {
  const h: Hostile = { server: null as any, port: 0, connections: [], closedAt: [], received: [] };
  h.server = createServer((sock) => {
    const n = h.connections.length;
    h.connections.push(Date.now());
    h.received.push(Buffer.alloc(0));
    let acted = false;
    sock.on("data", (d) => {
      h.received[n] = Buffer.concat([h.received[n], d]).subarray(0, 4096);
      if (!acted && d[0] >> 4 === 1) {
        acted = true;
        act(sock, n);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      h.closedAt[n] = Date.now();
    });
  });
  await new Promise<void>((r) => h.server.listen(0, "127.0.0.1", () => r()));
  h.port = (h.server.address() as any).port;
  return h;
}

function nodeConfig(id: string, port: number): any {
  return {
    board: "esp8266",
    wifi: { ssid: "home", password: "wifi-secret" },
    mqtt: { host: "127.0.0.1", port, keepaliveSeconds: 5 },
    device: { id, name: "Hostile " + id },
    sensors: [{ type: "bme280", address: 118, intervalSeconds: 1, heartbeatSeconds: 1 }],
    pump: { pin: "D5", maxRunSeconds: 60, minOffSeconds: 0, linkLostOffSeconds: 0, interlocks: [] },
    homeassistant: { discovery: false }
  };
}

/**
 * Boot a node against `act`, wait for `connections` connections, and check: no crash, memory bounded all
 * along, every connection closed by the node before the next one, delays growing (backoff), relay off.
 * Returns the device's console.
 */
async function survive(id: string, act: (sock: Socket, n: number) => void, connections: number, timeoutMs: number, expectLog: RegExp): Promise<string[]> {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
  const h = await hostile(act);
  let d: SimDevice | null = null;
  let maxUsage = 0;
  let relayOn = 0;
  let sampler: NodeJS.Timeout | null = null;
  try {
    d = await startDevice({ config: nodeConfig(id, h.port) });
    const dev = d;
    const relayPin = dev.pinNumber("D5");
    dev.rt.pinListeners.push((pin, level) => {
      if (pin === relayPin && level === 1) relayOn++;
    });
    sampler = setInterval(() => {
      maxUsage = Math.max(maxUsage, dev.memory().usage);
    }, 100);
    await until(connections + " connections to the hostile server", () => h.connections.length >= connections, timeoutMs, dev);
    await until("the last connection closed by the node", () => h.closedAt[connections - 1] !== undefined || h.connections.length > connections, timeoutMs, dev);
    maxUsage = Math.max(maxUsage, dev.memory().usage);
    const uncaught = dev.console.filter((l) => /Uncaught/.test(l));
    assert.deepEqual(uncaught, [], "the node did not crash");
    assert.ok(dev.console.some((l) => expectLog.test(l)), "the node says what was wrong (" + expectLog + "):\n" + dev.console.slice(-10).join("\n"));
    assert.ok(maxUsage <= MEMORY_BOUND, "memory estimate stayed within " + MEMORY_BOUND + " JsVars: peak " + maxUsage);
    for (let i = 0; i + 1 < connections; i++) assert.ok(h.closedAt[i] !== undefined && h.closedAt[i] <= h.connections[i + 1], "connection " + (i + 1) + " closed before the next one opened");
    const gaps: number[] = [];
    for (let i = 0; i + 1 < connections; i++) gaps.push(h.connections[i + 1] - h.closedAt[i]);
    for (let i = 0; i + 1 < gaps.length; i++) assert.ok(gaps[i + 1] > gaps[i], "reconnect delays grow (backoff): " + gaps.join(", ") + " ms");
    assert.ok(gaps[0] >= 500, "no immediate reconnect: first delay " + gaps[0] + " ms");
    assert.equal(relayOn, 0, "the relay never went ON");
    assert.equal(dev.relay(), false);
    for (const r of h.received.slice(0, connections)) assert.equal(r[0] >> 4, 1, "each connection starts with CONNECT");
    if (process.env.HOSTILE_DEBUG) console.error(id, "peak", maxUsage, "gaps", gaps, "\n" + dev.console.filter((l) => !/refused/.test(l)).join("\n"), "\nrefusals", dev.console.filter((l) => /refused/.test(l)).length);
    return dev.console.slice();
  } finally {
    if (sampler) clearInterval(sampler);
    if (d) await d.stop();
    await new Promise((r) => h.server.close(r));
  }
}

describe("hostile broker on loopback", { concurrency: true }, () => {
  test("garbage instead of CONNACK (an HTTP answer, then random bytes): closed, retried with backoff", { timeout: 30000 }, async () => {
    const junk = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 600 }), { numRuns: 10, seed: 7 });
    await survive("hg1", (sock, n) => {
      if (n === 0) sock.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      // A first byte of 0x00 or 0xF0 is an unknown type; anything else gets its turn too.
      else sock.write(Buffer.concat([Buffer.from([n % 2 ? 0x00 : 0xf3]), Buffer.from(junk[n % junk.length])]));
    }, 3, 20000, /mqtt: /);
  });

  test("truncated packets then silence: CONNACK deadline, then keepalive, close the link", { timeout: 60000 }, async () => {
    const log = await survive("hg2", (sock, n) => {
      if (n === 0) sock.write(Buffer.from([0x20, 0x02, 0x00])); // CONNACK missing its return code
      else {
        sock.write(CONNACK);
        sock.write(Buffer.from([0x30, 0x40, 0x00, 0x10, 0x68, 0x6f])); // a PUBLISH of 64 bytes, 4 sent
      }
    }, 3, 40000, /no CONNACK/);
    assert.ok(log.some((l) => /keepalive timeout/.test(l)), "the silent link after CONNACK is closed by keepalive:\n" + log.join("\n"));
  });

  test("remaining length 268,435,455 (0xFF 0xFF 0xFF 0x7F) then megabytes: skipped unbuffered, link closed", { timeout: 30000 }, async () => {
    await survive("hg3", (sock, n) => {
      sock.write(CONNACK);
      sock.write(Buffer.from([n === 1 ? 0x32 : 0x30, 0xff, 0xff, 0xff, 0x7f]));
      const chunk = Buffer.alloc(65536, 0x41);
      for (let i = 0; i < 32 && !sock.destroyed; i++) sock.write(chunk); // 2 MB
    }, 3, 20000, /mqtt: .*(too|large|long|big|limit)/i);
  });

  test("CONNACK then a flood of retained PUBLISH (5,000, some of 1.8 KB, ON on pump/set), then one too big", { timeout: 60000 }, async () => {
    const log = await survive("hg4", (sock, n) => {
      sock.write(CONNACK);
      const parts: Buffer[] = [];
      for (let i = 0; i < 5000; i++) {
        const topic = i % 3 === 0 ? "home/hg4/pump/set" : i % 3 === 1 ? "home/hg4/temperature" : "x/" + i + "/" + "y".repeat(i % 50);
        const payload = i % 3 === 0 ? Buffer.from(i % 2 ? "ON" : "{\"state\":\"ON\",\"seconds\":30}") : Buffer.alloc(i % 97 === 0 ? 1800 : i % 200, 0x5a);
        parts.push(publish(topic, payload, i % 5 === 0 ? 1 : 0, (i % 65535) + 1));
      }
      parts.push(publish("home/hg4/pump/set", Buffer.alloc(4000, 0x4f), 0, 0));
      sock.write(Buffer.concat(parts));
    }, 3, 40000, /mqtt: /);
    assert.ok(log.some((l) => /pump: refused: .*retained/i.test(l)), "retained commands were refused, not obeyed:\n" + log.slice(-5).join("\n"));
  });

  test("unknown packet types after CONNACK (0 and 15): protocol error, link closed", { timeout: 30000 }, async () => {
    await survive("hg5", (sock, n) => {
      sock.write(Buffer.concat([CONNACK, Buffer.from(n % 2 ? [0x00, 0x00] : [0xf0, 0x00])]));
    }, 3, 20000, /mqtt: .*unknown packet type/);
  });
});
