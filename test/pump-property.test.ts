/*
 * Property test of the pump (firmware/pump/pump.ts): 10,000 random configs, each driven by a random
 * sequence of payloads (valid, mutated, binary, oversized, retained or not) interleaved with clock
 * advances, interlock input changes, link changes, sensor readings and allOff. The relay pin itself is
 * watched:
 *  - it goes ON only inside a non-retained command whose payload the validator reads as ON;
 *  - a run never lasts longer than maxRunSeconds;
 *  - it is never turned ON while an interlock input reads active, and it stays ON at most POLL_MS (the
 *    interlock poll) once one reads active; nor is it turned ON while the link is down or the required
 *    sensor is stale, nor within minOffSeconds of the last OFF (or of boot);
 *  - the running time in any duty-cycle window ending at an observed instant stays within the cap;
 *  - pump.on matches the pin, onChange comes after the pin holds its state, nothing throws, and close()
 *    leaves no timer behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Pump, POLL_MS, P_ALL_OFF, P_ATTRIBUTES, P_CLOSE, P_COMMAND, P_LINK_DOWN, P_LINK_UP, P_SENSOR_OK, type PumpEvents } from "../firmware/pump/pump.ts";
import { parseCommand } from "../firmware/pump/command.ts";
import type { PumpConfig } from "../firmware/config.ts";
import type { InputPin, OutputPin } from "../firmware/types.ts";
import { FakeClock } from "./helpers/fakeclock.ts";

const TANK = { name: "tank_full", pin: 4, activeLevel: 1, pull: "down" };
const PEOPLE = { name: "people", pin: 12, activeLevel: 0, pull: "up" };

const VALID = [
  "ON", "OFF", "on", " off ", "\tOn\n", "{\"state\":\"ON\"}", "{\"state\":\"OFF\"}", "{\"state\":\"ON\",\"seconds\":5}",
  "{\"state\":\"ON\",\"seconds\":0.5}", "{\"seconds\":90,\"state\":\"on\"}", "{\"state\":\"ON\",\"seconds\":86400}"
];

const bytes = (a: Uint8Array) => String.fromCharCode.apply(null, Array.prototype.slice.call(a));

/** A valid payload with a few random edits (insert, delete, replace a byte). */
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(200), fc.nat(255), fc.constantFrom(0, 1, 2)), { minLength: 1, maxLength: 4 }))
  .map(([base, edits]) => {
    let s = base;
    for (const [pos, byte, op] of edits) {
      const p = pos % (s.length + 1);
      const ch = String.fromCharCode(byte < 128 && byte % 2 ? 32 + (byte % 95) : byte);
      if (op === 0) s = s.slice(0, p) + ch + s.slice(p);
      else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
      else s = s.slice(0, p) + ch + s.slice(p + 1);
    }
    return s;
  });

const payload = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...VALID) },
  { weight: 3, arbitrary: mutated },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(bytes) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 100, maxLength: 200 }) }
);

type Action =
  | { k: "cmd"; p: string; retained: boolean }
  | { k: "tick"; ms: number }
  | { k: "lock"; i: number; level: number }
  | { k: "link"; up: boolean }
  | { k: "sensor"; name: string }
  | { k: "allOff" };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant("cmd" as const), p: payload, retained: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("tick" as const), ms: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 70000 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("lock" as const), i: fc.nat(1), level: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("link" as const), up: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("sensor" as const), name: fc.constantFrom("air", "water") }) },
  { weight: 1, arbitrary: fc.constant({ k: "allOff" as const }) }
);

const configArb: fc.Arbitrary<PumpConfig> = fc
  .record({
    activeLow: fc.boolean(),
    maxRunSeconds: fc.integer({ min: 1, max: 120 }),
    minOffSeconds: fc.integer({ min: 0, max: 30 }),
    linkLostOffSeconds: fc.integer({ min: 0, max: 10 }),
    locks: fc.nat(2),
    duty: fc.option(fc.record({ maxRunSeconds: fc.integer({ min: 1, max: 60 }), windowMinutes: fc.integer({ min: 1, max: 3 }) })),
    requires: fc.option(fc.record({ sensor: fc.constant("air"), maxAgeSeconds: fc.integer({ min: 10, max: 60 }) }))
  })
  .map((r) => ({
    pin: 5,
    activeLow: r.activeLow,
    maxRunSeconds: r.maxRunSeconds,
    minOffSeconds: r.minOffSeconds,
    linkLostOffSeconds: r.linkLostOffSeconds,
    interlocks: [TANK, PEOPLE].slice(0, r.locks),
    dutyCycle: r.duty,
    requires: r.requires
  }));

/** An interlock input, polled by the pump; `since`: when the level last changed. */
class Input implements InputPin {
  since = 0;
  constructor(public level: number) {}
  read(): number {
    return this.level;
  }
}

/**
 * Runs one scenario (an interlock starts active when its initial draw is 0). Every invariant is an assert,
 * checked at each relay write and after each action.
 */
function scenario(cfg: PumpConfig, initial: number[], warm: boolean, actions: Action[]): void {
  const clock = new FakeClock(0);
  const onLevel = cfg.activeLow ? 0 : 1;
  const inputs = cfg.interlocks.map((il, i) => new Input(initial[i] === 0 ? il.activeLevel : 1 - il.activeLevel));
  const interlockActive = () => cfg.interlocks.some((il, i) => inputs[i].level === il.activeLevel);
  /** How long the longest-active interlock input has read active (-1: none does). */
  const activeFor = () => Math.max(-1, ...cfg.interlocks.map((il, i) => (inputs[i].level === il.activeLevel ? clock.now() - inputs[i].since : -1)));
  let mayStart = false; // true only inside command(p, false) with p a valid ON
  let level = -1;
  let onSince = -1;
  let lastOff = 0;
  let linkUp = false;
  let lastAir = -Infinity;
  const runs: [number, number][] = [];
  const maxRunMs = cfg.maxRunSeconds * 1000;

  const relay: OutputPin = {
    write(l: number) {
      const now = clock.now();
      if (l === onLevel && level !== onLevel) {
        assert.ok(mayStart, "relay ON outside a valid non-retained ON command");
        assert.ok(!interlockActive(), "relay ON while an interlock is active");
        assert.ok(linkUp, "relay ON while the link is down");
        assert.ok(now - lastOff >= cfg.minOffSeconds * 1000, "relay ON within the minimum off time");
        if (cfg.requires) assert.ok(now - lastAir < cfg.requires.maxAgeSeconds * 1000, "relay ON with a stale sensor");
        onSince = now;
      } else if (l !== onLevel && level === onLevel) {
        assert.ok(now - onSince <= maxRunMs, "run of " + (now - onSince) + " ms > maxRunSeconds");
        runs.push([onSince, now]);
        lastOff = now;
      }
      level = l;
    },
    read: () => level
  };
  const events: PumpEvents = {
    onChange(on: boolean) {
      assert.equal(level === onLevel, on, "onChange before the pin holds the state");
    },
    onRefused(m: string) {
      assert.equal(typeof m, "string");
    },
    onInterlock() {}
  };

  const check = () => {
    const now = clock.now();
    const on = level === onLevel;
    assert.equal(pump.on, on, "pump.on disagrees with the pin");
    if (!on) return;
    assert.ok(now - onSince <= maxRunMs, "ON for " + (now - onSince) + " ms > maxRunSeconds");
    assert.ok(activeFor() <= POLL_MS, "ON while an interlock input has read active for " + activeFor() + " ms");
    if (cfg.dutyCycle) {
      const from = now - cfg.dutyCycle.windowMinutes * 60000;
      let used = now - Math.max(onSince, from);
      for (const [a, b] of runs) used += Math.max(0, b - Math.max(a, from));
      assert.ok(used <= cfg.dutyCycle.maxRunSeconds * 1000 + 1, "duty cycle exceeded: " + used + " ms");
    }
    assert.ok(JSON.parse(pump.io(P_ATTRIBUTES)).changes >= runs.length);
  };

  const pump = new Pump(cfg, relay, inputs, clock, events);
  assert.notEqual(level, onLevel);
  if (warm) {
    // Most scenarios start where commands can work: link up, a fresh reading, boot's min off time over.
    linkUp = true;
    pump.io(P_LINK_UP);
    lastAir = clock.now();
    pump.io(P_SENSOR_OK, "air");
    clock.tick(cfg.minOffSeconds * 1000);
    check();
  }
  for (const a of actions) {
    if (a.k === "cmd") {
      const c = parseCommand(a.p);
      mayStart = !a.retained && typeof c === "number" && c >= 0;
      pump.io(P_COMMAND, a.p, a.retained);
      mayStart = false;
    } else if (a.k === "tick") clock.tick(a.ms);
    else if (a.k === "lock") {
      if (a.i < inputs.length && inputs[a.i].level !== a.level) {
        inputs[a.i].level = a.level;
        inputs[a.i].since = clock.now();
      }
    } else if (a.k === "link") {
      linkUp = a.up;
      if (a.up) pump.io(P_LINK_UP);
      else pump.io(P_LINK_DOWN);
    } else if (a.k === "sensor") {
      if (a.name === "air") lastAir = clock.now();
      pump.io(P_SENSOR_OK, a.name);
    } else pump.io(P_ALL_OFF, "test");
    check();
  }
  pump.io(P_CLOSE);
  assert.notEqual(level, onLevel);
  assert.equal(clock.pending(), 0, "close() left a timer");
  assert.equal(clock.staleClears, 0, "cleared a timer that had already fired");
}

test("pump property: the relay obeys the safety rules under random input", () => {
  fc.assert(
    fc.property(configArb, fc.tuple(fc.nat(3), fc.nat(3)), fc.nat(3), fc.array(action, { maxLength: 40, size: "max" }), (cfg, initial, warm, actions) => {
      scenario(cfg, initial, warm > 0, actions);
    }),
    { numRuns: 10000 }
  );
});

test("pump property: the generators reach the interesting states", () => {
  // Guards the property above against generators that never turn the pump on.
  let starts = 0;
  let interlockOffs = 0;
  const stops: Record<string, number> = {};
  const refusals: Record<string, number> = {};
  fc.assert(
    fc.property(configArb, fc.tuple(fc.nat(3), fc.nat(3)), fc.array(action, { maxLength: 40, size: "max" }), (cfg, initial, actions) => {
      const clock = new FakeClock(0);
      const inputs = cfg.interlocks.map((il, i) => new Input(initial[i] === 0 ? il.activeLevel : 1 - il.activeLevel));
      const pump = new Pump(cfg, { write() {}, read: () => 0 }, inputs, clock, {
        onChange(on, reason) {
          if (on) starts++;
          else stops[reason] = (stops[reason] || 0) + 1;
          if (reason.startsWith("interlock:")) interlockOffs++;
        },
        onRefused(m) {
          const k = m.startsWith("ON refused") ? m.replace(/[0-9]+/g, "N").slice(0, 45) : m.startsWith("retained") ? "retained" : "invalid";
          refusals[k] = (refusals[k] || 0) + 1;
        },
        onInterlock() {}
      });
      pump.io(P_LINK_UP);
      pump.io(P_SENSOR_OK, "air");
      clock.tick(cfg.minOffSeconds * 1000);
      for (const a of actions) {
        if (a.k === "cmd") pump.io(P_COMMAND, a.p, a.retained);
        else if (a.k === "tick") clock.tick(a.ms);
        else if (a.k === "link") a.up ? pump.io(P_LINK_UP) : pump.io(P_LINK_DOWN);
        else if (a.k === "sensor") pump.io(P_SENSOR_OK, a.name);
        else if (a.k === "lock" && a.i < inputs.length) inputs[a.i].level = a.level;
      }
      pump.io(P_CLOSE);
    }),
    { numRuns: 2000, seed: 42 }
  );
  console.log("# 2000 scenarios: " + starts + " starts, stops by reason " + JSON.stringify(stops));
  assert.ok(starts > 500, "only " + starts + " runs started; refusals " + JSON.stringify(refusals));
  assert.ok(interlockOffs > 10, "only " + interlockOffs + " interlock stops");
});
