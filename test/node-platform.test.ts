/*
 * firmware/platform.ts against fake Espruino globals: timer guards, the net connector's error paths
 * (synchronous throw reported later, one onClose, silence after close), the relay pin's write order,
 * watch handles, I2C register reads, watchdog detection.
 * The fake socket behaves as Espruino's (and the simulator's) does where the platform relies on it: every
 * listener is called with the socket as `this`, the connect callback gets the socket, close a boolean,
 * and writes after end() go nowhere.
 * Run: node --import tsx --test test/node-platform.test.ts
 */
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LINK_OPEN, LINK_DATA, LINK_CLOSE, type LinkEvents } from "../firmware/types.ts";

const g = globalThis as any;
let calls: string[] = [];
let connectImpl: (opts: any, cb: () => void) => any;

class FakeSocket {
  handlers: Record<string, (x?: any) => void> = {};
  written: string[] = [];
  ended = 0;
  on(ev: string, fn: (x?: any) => void) {
    this.handlers[ev] = fn;
  }
  /** Deliver an event as Espruino does: listener called on the socket. */
  emit(ev: string, x?: any) {
    this.handlers[ev].call(this, x);
  }
  write(d: string) {
    if (!this.ended) this.written.push(d);
  }
  end() {
    this.ended++;
  }
}

beforeEach(() => {
  calls = [];
  g.getTime = () => 12.5;
  g.require = (name: string) => {
    calls.push("require " + name);
    if (name === "net" || name === "tls") return { connect: (o: any, cb: () => void) => connectImpl(o, cb) };
    throw new Error("no module " + name);
  };
  g.pinMode = (p: number, m: string) => calls.push("pinMode " + p + " " + m);
  g.digitalWrite = (p: number, v: number) => calls.push("digitalWrite " + p + " " + v);
  g.digitalRead = (p: number) => (calls.push("digitalRead " + p), 1);
  g.setWatch = (_fn: any, p: number, o: any) => (calls.push("setWatch " + p + " " + o.edge), 7);
  g.clearWatch = (...a: any[]) => calls.push("clearWatch " + a.length);
  g.E = {
    enableWatchdog: () => {
      throw new Error("not supported");
    },
    kickWatchdog: () => {},
    on: () => {}
  };
  g.Pin = function (this: any, n: number) {
    this.n = n;
  };
  g.Pin.prototype.write = function (this: any, v: number) {
    calls.push("Pin(" + this.n + ").write " + v);
  };
});

const P = await import("../firmware/platform.ts");
const DeviceClockOnce: any = P.DeviceClock();

function events(log: string[]): LinkEvents {
  return {
    _on: (code, s) => void log.push(code === LINK_OPEN ? "open" : code === LINK_DATA ? "data " + s : code === LINK_CLOSE ? "close " + s : "code " + code)
  };
}

test("DeviceClock: the global object with now = Date.now (Espruino's getTime() in ms); setTimeout and clearTimeout are the globals", () => {
  const c = DeviceClockOnce;
  assert.equal(c, g, "no object of its own");
  const before = Date.now();
  const now = c.now();
  assert.ok(now >= before && now <= Date.now(), "now() is Date.now()");
  assert.equal(c.setTimeout, setTimeout, "setTimeout is the global itself");
  assert.equal(c.clearTimeout, clearTimeout, "clearTimeout is the global itself (callers never pass undefined)");
  assert.equal(new P.DeviceClock(), g, "callable with new");
});

test("connector: a synchronous throw from connect becomes onClose later, never from inside the call", async () => {
  connectImpl = () => {
    throw new Error("Unable to create socket");
  };
  const log: string[] = [];
  const link = P.netConnector("127.0.0.1", 1883, false)(events(log));
  assert.deepEqual(log, [], "nothing synchronously");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(log, ["close connect failed: Unable to create socket"]);
  link.write("x"); // harmless
  link.close();
});

test("connector: events flow, error then close gives one onClose with the error; tls uses require('tls')", () => {
  let sock = new FakeSocket();
  let opened: (s: any) => void = () => {};
  connectImpl = (o, cb) => {
    calls.push("connect " + o.host + ":" + o.port);
    opened = cb;
    return sock;
  };
  const log: string[] = [];
  const link = P.netConnector("broker", 8883, true)(events(log));
  assert.ok(calls.includes("require tls") && calls.includes("connect broker:8883"));
  opened.call(sock, sock);
  sock.emit("data", "\x20\x02\x00\x00");
  link.write("\xc0\x00");
  assert.deepEqual(sock.written, ["\xc0\x00"]);
  sock.emit("error", { message: "connection reset" });
  sock.emit("close", true);
  sock.emit("close", false);
  assert.deepEqual(log, ["open", "data \x20\x02\x00\x00", "close connection reset"]);
});

test("connector: close() ends the socket and silences every later event", () => {
  const sock = new FakeSocket();
  connectImpl = () => sock;
  const log: string[] = [];
  const link = P.netConnector("h", 1, false)(events(log));
  link.close();
  assert.equal(sock.ended, 1);
  sock.emit("data", "late");
  sock.emit("close", false);
  assert.deepEqual(log, []);
  link.write("after close"); // no throw, nothing written (the socket is ended)
  assert.deepEqual(sock.written, []);
});

test("relay pin: the level is latched before the pin becomes an output (no glitch), then it is Espruino's Pin", () => {
  const pin = P.relayPin(14, 1);
  assert.deepEqual(calls, ["pinMode 14 input", "digitalWrite 14 1", "pinMode 14 output", "digitalWrite 14 1"]);
  calls = [];
  pin.write(0);
  assert.deepEqual(calls, ["Pin(14).write 0"]);
});

test("DeviceOutputPin (hosts, harnesses): the first write latches the level before the pin becomes an output", () => {
  const pin = new P.DeviceOutputPin(14);
  pin.write(1);
  assert.deepEqual(calls, ["pinMode 14 input", "digitalWrite 14 1", "pinMode 14 output", "digitalWrite 14 1"]);
  calls = [];
  pin.write(0);
  assert.deepEqual(calls, ["digitalWrite 14 0"]);
  assert.equal(pin.read(), 0);
});

test("input pin: pull mode set, then Espruino's own Pin object (polled by the pump: no watch)", () => {
  for (const [pull, mode] of [["up", "input_pullup"], ["down", "input_pulldown"], ["none", "input"]]) {
    calls = [];
    const pin: any = P.DeviceInputPin(12, pull);
    assert.deepEqual(calls, ["pinMode 12 " + mode]);
    assert.ok(pin instanceof g.Pin);
    assert.equal(pin.n, 12);
  }
});

test("I2C register access: pointer write then read into the caller's buffer; a short read throws", () => {
  const bus = {
    log: [] as string[],
    writeTo(a: number, d: any) {
      this.log.push("w " + a + " " + JSON.stringify(d));
    },
    readFrom(a: number, n: number) {
      this.log.push("r " + a + " " + n);
      return n === 3 ? new Uint8Array([1, 2, 3]) : new Uint8Array(1);
    }
  };
  const io = new P.I2CRegisterIO(bus, 0x76);
  const buf = new Uint8Array(3);
  io.read(0xf7, buf);
  assert.deepEqual([...buf], [1, 2, 3]);
  assert.throws(() => io.read(0x88, new Uint8Array(2)), /I2C read of 2 bytes got 1/);
  io.write(0xf4, 0x25);
  assert.deepEqual(bus.log, ["w 118 247", "r 118 3", "w 118 136", "r 118 2", "w 118 [244,37]"]);
});

test("watchdog: automatic mode (kicked by Espruino's idle loop, no timer); false where E.enableWatchdog is missing or throws", () => {
  assert.equal(P.startWatchdog(30), false);
  const args: any[] = [];
  g.E.enableWatchdog = (...a: any[]) => args.push(a);
  assert.equal(P.startWatchdog(30), true);
  assert.deepEqual(args, [[30, true]]);
});

test("DHT pins: clearWatch(undefined) is not passed on (it would clear every watch), an id is", () => {
  const d = P.dhtPins();
  d.clearWatch(undefined);
  d.clearWatch(null);
  assert.deepEqual(calls, []);
  d.clearWatch(7);
  assert.deepEqual(calls, ["clearWatch 1"]);
  calls = [];
  d.pinMode(4, "input_pullup");
  assert.deepEqual(calls, ["pinMode 4 input_pullup"]);
});
