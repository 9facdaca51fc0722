/*
 * Filter chains (firmware/filters.ts) as tables: each row feeds readings at given times into one chain
 * and lists what push() returned (a number to publish, or null), including garbage inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "./helpers/fakeclock.ts";
import { createSensorFilters, RESEND } from "../firmware/filters.ts";
import type { SensorConfig } from "../firmware/config.ts";

interface Row {
  name: string;
  /** scale (1: temperature chain, 0.01: pressure chain), offset, average, delta, heartbeatSeconds, decimals */
  chain: [number, number, number, number, number, number];
  /** [ms since the previous reading, input] */
  feed: Array<[number, any]>;
  out: Array<number | null>;
}

const ROWS: Row[] = [
  {
    name: "delta 0: every valid reading, rounded to 1 decimal",
    chain: [1, 0, 1, 0, 0, 1],
    feed: [[0, 21.04], [1000, 21.06], [1000, 21.06], [1000, -0.04]],
    out: [21, 21.1, 21.1, 0]
  },
  {
    name: "offset in published units, applied before rounding",
    chain: [1, -1.5, 1, 0, 0, 2],
    feed: [[0, 20.123], [1000, -39.999]],
    out: [18.62, -41.5]
  },
  {
    name: "pressure: Pa in, hPa out, offset in hPa",
    chain: [0.01, 0.5, 1, 0, 0, 1],
    feed: [[0, 101325], [1000, 99999.9]],
    out: [1013.8, 1000.5]
  },
  {
    name: "delta: the rounded value must move at least 0.3 since the last publish (20.4 - 20.1 counts)",
    chain: [1, 0, 1, 0.3, 0, 1],
    feed: [[0, 20.1], [1000, 20.3], [1000, 20.34], [1000, 20.4], [1000, 20.2], [1000, 20.1]],
    out: [20.1, null, null, 20.4, null, 20.1]
  },
  {
    name: "heartbeat: republish an unchanged value every 60 s",
    chain: [1, 0, 1, 1, 60, 1],
    feed: [[0, 20], [30000, 20], [29999, 20], [1, 20], [1000, 20.1], [60000, 20.1]],
    out: [20, null, null, 20, null, 20.1]
  },
  {
    name: "moving average over 3 (fewer while the window fills)",
    chain: [1, 0, 3, 0, 0, 2],
    feed: [[0, 10], [1000, 20], [1000, 30], [1000, 40], [1000, 50]],
    out: [10, 15, 20, 30, 40]
  },
  {
    name: "garbage stops the chain and does not poison the average",
    chain: [1, 0, 3, 0, 0, 1],
    feed: [[0, 10], [1000, NaN], [1000, Infinity], [1000, -Infinity], [1000, "20"], [1000, undefined], [1000, null], [1000, {}], [1000, 20], [1000, "\u0000\xff"], [1000, 30]],
    out: [10, null, null, null, null, null, null, null, 15, null, 20]
  },
  {
    name: "garbage does not reset the heartbeat either",
    chain: [1, 0, 1, 5, 10, 0],
    feed: [[0, 1], [9000, NaN], [1000, 1]],
    out: [1, null, 1]
  },
  {
    name: "0 decimals, no -0",
    chain: [1, 0, 1, 0, 0, 0],
    feed: [[0, -0.4], [1000, 2.5], [1000, 1e6]],
    out: [0, 3, 1000000]
  }
];

/** A sensor config whose chain q has the row's settings (the other chains: defaults). */
function rowConfig(q: "temperature" | "pressure", c: Row["chain"]): SensorConfig {
  var sc = cfg("bme280");
  sc.average = c[2];
  sc.heartbeatSeconds = c[4];
  sc.offset = { temperature: 0, humidity: 0, pressure: 0 };
  sc.delta = { temperature: 0, humidity: 0, pressure: 0 };
  sc.decimals = { temperature: 1, humidity: 1, pressure: 1 };
  sc.offset[q] = c[1];
  sc.delta[q] = c[3];
  sc.decimals[q] = c[5];
  return sc;
}

test("filter chain table", () => {
  for (var row of ROWS) {
    var clock = new FakeClock();
    var c = row.chain;
    // scale 0.01 is the pressure chain (Pa -> hPa), 1 the temperature chain.
    var q = c[0] === 1 ? 0 : 2;
    var f = createSensorFilters(rowConfig(q ? "pressure" : "temperature", c), clock);
    var got: Array<number | null> = [];
    for (var step of row.feed) {
      clock.tick(step[0]);
      got.push(f.push(q, step[1]));
    }
    assert.deepEqual(got, row.out, row.name);
    for (var g of got) if (g !== null) assert.ok(!Object.is(g, -0), row.name + ": -0 published");
  }
});

test("resend", () => {
  var clock = new FakeClock();
  var f = createSensorFilters(rowConfig("temperature", [1, 0, 2, 1, 0, 1]), clock);
  assert.equal(f.push(0, 10), 10);
  assert.equal(f.push(0, 10.2), null); // average 10.1, within the delta of 1
  assert.equal(f.push(RESEND), null);
  assert.equal(f.push(0, 10.2), 10.2); // window 10.2, 10.2 (10 has left it); published although within delta
  assert.equal(f.push(0, 10.3), null, "resend is once: the delta applies again");
});

test("each quantity has its own window, delta and heartbeat; resend covers them all", () => {
  var clock = new FakeClock();
  var sc = cfg("bme280");
  sc.average = 2;
  sc.heartbeatSeconds = 10;
  sc.delta = { temperature: 1, humidity: 5, pressure: 0 };
  var f = createSensorFilters(sc, clock);
  assert.deepEqual([f.push(0, 20), f.push(1, 40), f.push(2, 100000)], [19.5, 42, 1001]);
  clock.tick(5000);
  // Temperature window 19.5, 21.5 (offset -0.5): 20.5, moved by the delta of 1. Garbage humidity: nothing.
  assert.deepEqual([f.push(0, 22), f.push(1, "x"), f.push(2, 100100)], [20.5, null, 1001.5]);
  clock.tick(5000);
  // Temperature window 21.5, 21: 21.3, within 1 of 20.5 and published 5 s ago. Humidity: its window still
  // holds 42 alone (the garbage did not enter it), unchanged, but its last publish is 10 s old: heartbeat.
  assert.deepEqual([f.push(0, 21.5), f.push(1, 40)], [null, 42]);
  assert.equal(f.push(RESEND), null);
  assert.deepEqual([f.push(0, 22), f.push(1, 40), f.push(2, 100100)], [21.3, 42, 1002]);
});

function cfg(type: "bme280" | "bmp280" | "dht22"): SensorConfig {
  return {
    type: type, name: "s", address: 0x76, pin: -1, sda: 4, scl: 5, intervalSeconds: 30, average: 1, heartbeatSeconds: 300,
    offset: { temperature: -0.5, humidity: 2, pressure: 1 },
    delta: { temperature: 0, humidity: 0, pressure: 0 },
    decimals: { temperature: 1, humidity: 0, pressure: 2 }
  };
}

test("createSensorFilters: one chain per quantity, config fields in published units", () => {
  var clock = new FakeClock();
  var bme = createSensorFilters(cfg("bme280"), clock);
  assert.equal(bme.push(0, 21.04), 20.5);
  assert.equal(bme.push(1, 45.4), 47);
  assert.equal(bme.push(2, 101325.4), 1014.25);
  // A quantity the part lacks is absent from its samples: undefined goes nowhere.
  var bmp = createSensorFilters(cfg("bmp280"), clock);
  assert.equal(bmp.push(1, undefined), null);
  assert.equal(bmp.push(2, 101325.4), 1014.25);
  var dht = createSensorFilters(cfg("dht22"), clock);
  assert.equal(dht.push(2, undefined), null);
  assert.equal(dht.push(1, 45.4), 47);
});
