/*
 * DHT22 driver (firmware/sensors/dht22.ts) driven by a fake pin API that replays the sensor's edges
 * (sim/hw/dht22.ts dht22Edges) through setWatch on a fake clock: frames from the AM2302 data sheet,
 * negative temperature, bad checksum, short frame, no response, the 2 s rule, retries and the callback
 * contract.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "./helpers/fakeclock.ts";
import { createDHT22, configureDHT22, type DHTPins, type WatchEvent } from "../firmware/sensors/dht22.ts";
import { DHT22Model, dht22Edges, encodeFrame } from "../sim/hw/dht22.ts";
import type { Sample } from "../firmware/types.ts";

const PIN = 4;

/**
 * Espruino's pin calls over a DHT22Model: when the host releases the line (pinMode input_pullup after
 * driving it low), the model's frame is played back 1 ms later as falling edges to the watch.
 */
class FakePins implements DHTPins {
  calls: string[] = [];
  lowSince = -1;
  lowMs: number[] = [];
  watches = 0;
  private cb: ((e: WatchEvent) => void) | null = null;
  /** Raw bytes to send instead of the model's frame (once). */
  raw: Uint8Array | null = null;
  constructor(private clock: FakeClock, private model: DHT22Model) {}

  pinMode(pin: number, mode: string): void {
    assert.equal(pin, PIN);
    this.calls.push("pinMode " + mode);
    if (mode === "input_pullup" && this.lowSince >= 0) {
      this.lowMs.push(this.clock.now() - this.lowSince);
      this.lowSince = -1;
      var frame = this.raw || this.model.frame();
      this.raw = null;
      if (!frame) return;
      var edges = dht22Edges(frame, this.clock.now() / 1000);
      this.clock.setTimeout(() => {
        var last = edges[0].time;
        for (var e of edges) {
          if (!e.state && this.cb) this.cb({ state: false, time: e.time, lastTime: last });
          last = e.time;
        }
      }, 1);
    }
  }
  digitalWrite(pin: number, level: number): void {
    this.calls.push("digitalWrite " + level);
    if (level === 0) this.lowSince = this.clock.now();
  }
  setWatch(callback: (e: WatchEvent) => void, pin: number, options: { repeat: boolean; edge: string }): any {
    assert.equal(pin, PIN);
    assert.deepEqual(options, { repeat: true, edge: "falling" });
    this.cb = callback;
    this.watches++;
    return 7;
  }
  clearWatch(id: any): void {
    assert.equal(id, 7);
    this.cb = null;
    this.watches--;
  }
}

function setup(retries?: number) {
  var clock = new FakeClock(10000);
  var model = new DHT22Model(PIN);
  var pins = new FakePins(clock, model);
  var s = createDHT22({ pin: PIN, pins: pins, clock: clock, retries: retries });
  return { clock, model, pins, s };
}

function read(x: ReturnType<typeof setup>, ms: number) {
  var calls: Array<{ err: Error | null; v?: Sample }> = [];
  x.s.sample((err, v) => calls.push({ err: err, v: v }));
  assert.equal(calls.length, 0, "callback must not run inside sample()");
  x.clock.tick(ms);
  return calls;
}

test("AM2302 data sheet frames decode to the published values (table)", () => {
  var table: Array<[number[], number, number]> = [
    // humidity 0x028C = 652 -> 65.2 %RH, temperature 0x015F = 351 -> 35.1 degC, checksum 0xEE
    [[0x02, 0x8c, 0x01, 0x5f, 0xee], 35.1, 65.2],
    // temperature 0x8065: sign bit set, 0x065 = 101 -> -10.1 degC
    [[0x02, 0x8c, 0x80, 0x65, (0x02 + 0x8c + 0x80 + 0x65) & 0xff], -10.1, 65.2],
    [[0x00, 0x00, 0x80, 0x01, 0x81], -0.1, 0],
    [[0x03, 0xe8, 0x03, 0x20, (0x03 + 0xe8 + 0x03 + 0x20) & 0xff], 80, 100],
    [[0x00, 0x05, 0x81, 0x90, (0x05 + 0x81 + 0x90) & 0xff], -40, 0.5]
  ];
  for (var row of table) {
    var x = setup();
    x.pins.raw = new Uint8Array(row[0]);
    var c = read(x, 40);
    assert.equal(c.length, 1);
    assert.equal(c[0].err, null, String(c[0].err));
    assert.deepEqual(c[0].v, { temperature: row[1], humidity: row[2] });
  }
});

test("model -> driver round trip, negative temperature from the model's sign bit", () => {
  var x = setup();
  x.model.temperature = -12.3;
  x.model.humidity = 87.6;
  var f = encodeFrame(-12.3, 87.6);
  assert.equal(f[2] & 0x80, 0x80);
  var c = read(x, 40);
  assert.deepEqual(c[0].v, { temperature: -12.3, humidity: 87.6 });
  // The start pulse held the line low at least 1 ms, then released it to the pull-up.
  assert.ok(x.pins.lowMs[0] >= 1, "low for " + x.pins.lowMs[0] + " ms");
  assert.deepEqual(x.pins.calls.slice(0, 4), ["pinMode input_pullup", "digitalWrite 0", "pinMode output", "pinMode input_pullup"]);
  assert.equal(x.pins.watches, 0, "the watch is cleared after the frame");
  assert.equal(x.clock.pending(), 0);
});

test("bad checksum: retried once 2 s later, then one error naming the fault", () => {
  var x = setup();
  x.model.fail = "checksum";
  var c = read(x, 1000);
  assert.equal(c.length, 0, "waiting for the retry");
  x.clock.tick(2000);
  assert.equal(c.length, 1);
  assert.equal(c[0].err!.message, "DHT22 on pin 4: bad checksum (after 2 attempts)");
  assert.equal(c[0].v, undefined);
  assert.equal(x.model.reads, 2);
  // A retry that succeeds delivers the reading.
  var y = setup();
  y.model.fail = "checksum";
  var d: any[] = [];
  y.s.sample((e, v) => d.push([e, v]));
  y.clock.tick(100);
  y.model.fail = null;
  y.clock.tick(2100);
  assert.equal(d.length, 1);
  assert.deepEqual(d[0], [null, { temperature: 21, humidity: 50 }]);
});

test("short frame, no response: errors without retry when retries is 0", () => {
  var x = setup(0);
  x.model.fail = "short";
  x.model.shortBytes = 3;
  var c = read(x, 40);
  assert.equal(c.length, 1);
  // 24 bits sent, the last one has no closing edge: 23 decoded.
  assert.equal(c[0].err!.message, "DHT22 on pin 4: short frame (23 of 40 bits)");
  x.clock.tick(2000);
  x.model.fail = "noresponse";
  c = read(x, 40);
  assert.equal(c[0].err!.message, "DHT22 on pin 4: no response");
  x.clock.tick(2000);
  x.model.fail = "short";
  x.model.shortBytes = 0;
  c = read(x, 40);
  assert.equal(c[0].err!.message, "DHT22 on pin 4: no response header (1 edges)");
  assert.equal(x.pins.watches, 0);
});

test("at most one read per 2 s: the last good reading is reused; after a failure the read waits for the 2 s", () => {
  var x = setup(0);
  var first = read(x, 40);
  assert.equal(first[0].err, null);
  x.model.temperature = 30;
  var again = read(x, 1);
  assert.equal(again.length, 1);
  assert.deepEqual(again[0].v, first[0].v, "the same reading, no new read");
  assert.equal(x.model.reads, 1);
  x.clock.tick(2000);
  var fresh = read(x, 40);
  assert.equal(fresh[0].v!.temperature, 30);
  assert.equal(x.model.reads, 2);
  x.clock.tick(2000);
  x.model.fail = "noresponse";
  assert.equal(read(x, 40)[0].err!.message, "DHT22 on pin 4: no response");
  // 40 ms after that start pulse: the next read starts 2 s after it, not before (and gives the real error).
  var soon = read(x, 1);
  assert.equal(soon.length, 0, "waiting for the 2 s");
  x.clock.tick(1900);
  assert.equal(x.model.reads, 3);
  x.model.fail = null;
  x.clock.tick(100);
  assert.equal(x.model.reads, 4);
  x.clock.tick(40);
  assert.equal(soon.length, 1);
  assert.equal(soon[0].err, null);
  assert.deepEqual(soon[0].v, { temperature: 30, humidity: 50 });
});

test("callback exactly once and later; busy and closed are errors; close twice is harmless", () => {
  var x = setup();
  var a: any[] = [];
  var b: any[] = [];
  x.s.sample((e, v) => a.push([e, v]));
  x.s.sample((e, v) => b.push([e, v]));
  assert.equal(a.length + b.length, 0);
  x.clock.tick(40);
  assert.equal(a.length, 1);
  assert.equal(a[0][0], null);
  assert.equal(b.length, 1);
  assert.equal(b[0][0].message, "DHT22 on pin 4: a read is already in progress");
  x.clock.tick(10000);
  assert.equal(a.length, 1);
  // close during a read: the watch and timers go, the callback gets "closed".
  var c: any[] = [];
  x.s.sample((e) => c.push(e));
  x.clock.tick(1);
  assert.equal(x.pins.watches, 1);
  x.s.close();
  assert.equal(c.length, 1);
  assert.equal(c[0].message, "DHT22 on pin 4: closed");
  assert.equal(x.pins.watches, 0);
  x.clock.tick(100); // the fake sensor may still answer the release: nobody listens
  assert.equal(c.length, 1);
  x.s.close();
  x.s.sample((e) => c.push(e));
  x.clock.tick(1);
  assert.equal(c.length, 2);
  assert.equal(c[1].message, "DHT22 on pin 4: closed");
});

test("options are checked", () => {
  var x = setup();
  assert.throws(() => configureDHT22(x.s, { retries: 4 }), { message: "DHT22 on pin 4: retries must be a whole number between 0 and 3, got 4" });
  assert.throws(() => configureDHT22(x.s, { retries: 1.5 }), /retries must be a whole number/);
  assert.throws(() => createDHT22({ pin: -1, pins: x.pins, clock: x.clock }), /DHT22 on pin -1: options.pin, options.pins and options.clock are required/);
  assert.throws(() => createDHT22({ pin: 4, pins: x.pins, clock: x.clock, retries: -1 }), /DHT22 on pin 4: retries must be/);
});

test("close: a sample() from inside the 'closed' callback is refused later, the line is left released", () => {
  var x = setup();
  var got: string[] = [];
  x.s.sample((e) => {
    got.push(e!.message);
    x.s.sample((e2) => got.push(e2!.message));
  });
  x.clock.tick(1);
  x.s.close();
  assert.deepEqual(got, ["DHT22 on pin 4: closed"]);
  x.clock.tick(1);
  assert.deepEqual(got, ["DHT22 on pin 4: closed", "DHT22 on pin 4: closed"]);
  assert.equal(x.pins.watches, 0);
  assert.equal(x.pins.calls[x.pins.calls.length - 1], "pinMode input_pullup");
  assert.equal(x.model.reads, 1, "no second start pulse");
});
