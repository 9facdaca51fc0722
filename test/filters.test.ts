/*
 * Filter chain (firmware/filters.ts) as tables: each row feeds readings at given times into one chain
 * and lists what push() returned (a number to publish, or null), including garbage inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "./helpers/fake-clock.ts";
import { QuantityFilter, SensorFilters } from "../firmware/filters.ts";
import type { SensorConfig } from "../firmware/config.ts";

interface Row {
  name: string;
  /** scale, offset, average, delta, heartbeatSeconds, decimals */
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

test("filter chain table", () => {
  for (var row of ROWS) {
    var clock = new FakeClock();
    var c = row.chain;
    var f = new QuantityFilter(c[0], c[1], c[2], c[3], c[4], c[5], clock);
    var got: Array<number | null> = [];
    for (var step of row.feed) {
      clock.tick(step[0]);
      got.push(f.push(step[1]));
    }
    assert.deepEqual(got, row.out, row.name);
    for (var g of got) if (g !== null) assert.ok(!Object.is(g, -0), row.name + ": -0 published");
  }
});

test("resend and reset", () => {
  var clock = new FakeClock();
  var f = new QuantityFilter(1, 0, 2, 1, 0, 1, clock);
  assert.equal(f.push(10), 10);
  assert.equal(f.push(10.2), null); // average 10.1, within the delta of 1
  f.resend();
  assert.equal(f.push(10.2), 10.2); // window 10.2, 10.2 (10 has left it); published although within delta
  f.reset();
  assert.equal(f.push(30), 30, "window emptied: no memory of 10");
});

function cfg(type: "bme280" | "bmp280" | "dht22"): SensorConfig {
  return {
    type: type, name: "s", address: 0x76, pin: -1, sda: 4, scl: 5, intervalSeconds: 30, average: 1, heartbeatSeconds: 300,
    offset: { temperature: -0.5, humidity: 2, pressure: 1 },
    delta: { temperature: 0, humidity: 0, pressure: 0 },
    decimals: { temperature: 1, humidity: 0, pressure: 2 }
  };
}

test("SensorFilters: chains per quantity the part has, config fields in published units", () => {
  var clock = new FakeClock();
  var bme = new SensorFilters(cfg("bme280"), clock);
  assert.equal(bme.temperature.push(21.04), 20.5);
  assert.equal(bme.humidity!.push(45.4), 47);
  assert.equal(bme.pressure!.push(101325.4), 1014.25);
  var bmp = new SensorFilters(cfg("bmp280"), clock);
  assert.equal(bmp.humidity, null);
  assert.notEqual(bmp.pressure, null);
  var dht = new SensorFilters(cfg("dht22"), clock);
  assert.equal(dht.pressure, null);
  assert.notEqual(dht.humidity, null);
  bme.temperature.push(21.04);
  bme.resend();
});
