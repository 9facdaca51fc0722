/*
 * The simulator's sockets, Wifi faults and the real bundle: byte strings through a real local TCP
 * server, refused connections as each board reports them, cutTcp (silent both ways), wifiDrop, and
 * dist/firmware.js judging a good and a bad config.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { existsSync } from "node:fs";
import { startDevice, DEFAULT_BUNDLE } from "../sim/api.ts";
import { freePort } from "./helpers/mosquitto.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CFG = (board: string, port: number) => ({ board, ...(board === "linux" ? {} : { wifi: { ssid: "lab", password: "pw" } }), mqtt: { host: "127.0.0.1", port }, device: { id: "n1" } });

function server(): Promise<{ port: number; srv: net.Server; socks: net.Socket[]; got: Buffer[] }> {
  return new Promise((resolve) => {
    const socks: net.Socket[] = [];
    const got: Buffer[] = [];
    const srv = net.createServer((s) => {
      socks.push(s);
      s.on("data", (d) => got.push(d));
      s.on("error", () => {});
    });
    srv.listen(0, "127.0.0.1", () => resolve({ port: (srv.address() as any).port, srv, socks, got }));
  });
}

test("net: all 256 byte values round-trip as byte strings through a real TCP server", async () => {
  const s = await server();
  const code = `
    var all = ""; for (var i = 0; i < 256; i++) all += String.fromCharCode(i);
    var got = "";
    var c = require("net").connect({ host: "127.0.0.1", port: ${s.port} }, function () { c.write(all); print("open"); });
    c.on("data", function (d) { got += d; if (got.length >= 256) { var ok = got === all; print("echo " + got.length + " " + ok); c.end(); } });
    c.on("close", function (e) { print("close " + e); });
  `;
  s.srv.on("connection", (sock) => sock.on("data", (d) => sock.write(d)));
  const d = await startDevice({ config: CFG("linux", s.port), code, board: "linux" });
  await d.waitForConsole(/^close/, 3000);
  assert.ok(d.console.includes("echo 256 true"), d.console.join("\n"));
  assert.deepEqual([...Buffer.concat(s.got)], Array.from({ length: 256 }, (_, i) => i));
  assert.ok(d.console.includes("close false"));
  await d.stop();
  for (const k of s.socks) k.destroy();
  s.srv.close();
});

test("net: a refused port throws at once on Linux/ESP32, and is an error event (-9) then close on ESP8266", async () => {
  const port = await freePort();
  const code = `
    try {
      var c = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { print("connected?!"); });
      c.on("error", function (e) { print("error " + e.code + " " + e.message); });
      c.on("close", function (h) { print("close " + h); });
    } catch (e) { print("threw " + e.message + " " + (e instanceof Error)); }
  `;
  const lin = await startDevice({ config: CFG("linux", port), code, board: "linux" });
  const esp = await startDevice({ config: { ...CFG("esp8266", port) }, code: 'require("Wifi").connect("lab", {password: "pw"}, function (err) {' + code + "});" });
  await lin.waitForConsole(/threw/, 2000);
  await esp.waitForConsole(/^close/, 3000);
  assert.ok(lin.console.includes("threw Unable to create socket false"), "InternalError is not an Error on Espruino");
  assert.ok(esp.console.includes("error -9 connection reset"));
  assert.ok(esp.console.includes("close true"));
  await lin.stop();
  await esp.stop();
});

test("cutTcp: both directions go silent, the server's socket stays open and hears nothing", async () => {
  const s = await server();
  const code = `
    var c = require("net").connect({ host: "127.0.0.1", port: ${s.port} }, function () { c.write("hello"); });
    c.on("data", function (d) { print("rx " + d); });
    c.on("close", function () { print("device saw close"); });
    global.send = function () { c.write("more"); };
    global.bye = function () { c.end(); };
  `;
  const d = await startDevice({ config: CFG("linux", s.port), code, board: "linux" });
  while (!s.got.length) await wait(10);
  let serverClosed = false;
  s.socks[0].on("close", () => (serverClosed = true));
  d.cutTcp();
  s.socks[0].write("ping");
  (d.rt as any).ctx.send();
  await wait(150);
  assert.equal(Buffer.concat(s.got).toString(), "hello", "nothing after the cut reaches the server");
  assert.ok(!d.console.some((l) => l.startsWith("rx")), "nothing reaches the device");
  (d.rt as any).ctx.bye();
  await wait(150);
  assert.equal(serverClosed, false, "no FIN reaches the server");
  assert.ok(d.console.includes("device saw close"), "the device closes its own side");
  await d.stop();
  await wait(50);
  assert.equal(serverClosed, true, "stop() finally releases the socket");
  for (const k of s.socks) k.destroy();
  s.srv.close();
});

test("wifiDrop: 'disconnected', sockets die, connects fail until it is back, then 'connected'", async () => {
  const s = await server();
  const code = `
    var W = require("Wifi");
    W.on("disconnected", function (d) { print("wifi down " + d.reason); try { require("net").connect({ host: "127.0.0.1", port: ${s.port} }); } catch (e) { print("connect: " + e.message); } });
    W.on("connected", function (d) { print("wifi up " + d.ip); var c = require("net").connect({ host: "127.0.0.1", port: ${s.port} }, function () { print("tcp open"); }); c.on("close", function (h) { print("tcp close " + h); }); });
    W.connect("lab", { password: "pw" }, function (err) { print("cb " + err); });
  `;
  const d = await startDevice({ config: CFG("esp8266", s.port), code });
  await d.waitForConsole(/tcp open/, 3000);
  d.wifiDrop(0.3);
  await d.waitForConsole(/wifi down beacon_timeout/, 2000);
  await d.waitForConsole(/tcp close true/, 2000);
  assert.ok(d.console.includes("connect: Unable to create socket"));
  await wait(500);
  assert.equal(d.console.filter((l) => l === "tcp open").length, 2, d.console.join("\n"));
  assert.ok(d.console.includes("cb null"));
  await d.stop();
  for (const k of s.socks) k.destroy();
  s.srv.close();
});

test("the real dist/firmware.js boots and prints its config verdict, good and bad", { skip: !existsSync(DEFAULT_BUNDLE) && "run npm run build first" }, async () => {
  const port = await freePort();
  const good = await startDevice({ config: { board: "esp8266", wifi: { ssid: "lab", password: "pw" }, mqtt: { host: "127.0.0.1", port }, device: { id: "good1" } } });
  await good.waitForConsole(/config ok/, 3000);
  const bad = await startDevice({ config: { board: "esp8266", mqtt: { host: "127.0.0.1", port: "ten" }, device: { id: "bad" } } });
  await bad.waitForConsole(/mqtt\.port must be/, 3000);
  await bad.waitForConsole(/problem\(s\)\. Pump held off/, 3000);
  const garbage = await startDevice({ config: "{not json", board: "esp8266" });
  await garbage.waitForConsole(/config\.json: missing or not valid JSON/, 3000);
  for (const d of [good, bad, garbage]) await d.stop();
});
