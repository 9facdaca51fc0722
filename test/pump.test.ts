/*
 * The pump safety state machine (firmware/pump/pump.ts), rule by rule, tick by tick, with a fake clock,
 * a fake relay pin and fake interlock inputs. Each event is logged as one line so a test reads as the
 * sequence the publisher would see.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pump, POLL_MS, RELEASE_SAMPLES, P_COMMAND, P_LINK_UP, P_LINK_DOWN, P_SENSOR_OK, P_ATTRIBUTES, P_ALL_OFF, P_CLOSE, type PumpEvents } from "../firmware/pump/pump.ts";
import { dutyUsed, DUTY_SIZE, DUTY_SLOTS, D_WINDOW_MS } from "../firmware/pump/duty.ts";
import type { PumpConfig } from "../firmware/config.ts";
import type { InputPin, OutputPin } from "../firmware/types.ts";
import { FakeClock } from "./helpers/fakeclock.ts";

class FakeRelay implements OutputPin {
  level = -1;
  writes: number[] = [];
  write(level: number): void {
    this.level = level;
    this.writes.push(level);
  }
  read(): number {
    return this.level;
  }
}

/** An interlock input: the pump polls read(). On the device read() gives a boolean (Espruino's Pin), so
 * this one does too when `bool` is set. */
class FakeInput implements InputPin {
  level: number;
  /** Relay level seen at each read, to prove the relay was written before the inputs were looked at. */
  relayAtRead: number[] = [];
  constructor(level: number, private relay: FakeRelay, private bool = false) {
    this.level = level;
  }
  read(): number | boolean {
    this.relayAtRead.push(this.relay.level);
    return this.bool ? this.level === 1 : this.level;
  }
  set(level: number): void {
    this.level = level;
  }
}

class Log implements PumpEvents {
  lines: string[] = [];
  constructor(private relay: FakeRelay, private activeLow: boolean) {}
  onChange(on: boolean, reason: string): void {
    // The pin must already hold the state being reported.
    assert.equal(this.relay.level, on !== this.activeLow ? 1 : 0, "onChange(" + on + ") before the pin was written");
    this.lines.push((on ? "ON " : "OFF ") + reason);
  }
  onRefused(message: string): void {
    this.lines.push("refused: " + message);
  }
  onInterlock(name: string, active: boolean): void {
    this.lines.push("interlock " + name + " " + (active ? "active" : "clear"));
  }
  take(): string[] {
    const l = this.lines;
    this.lines = [];
    return l;
  }
}

function config(extra: Partial<PumpConfig>): PumpConfig {
  return Object.assign(
    { pin: 5, activeLow: false, maxRunSeconds: 60, minOffSeconds: 10, linkLostOffSeconds: 5, interlocks: [], dutyCycle: null, requires: null },
    extra
  );
}

const TANK = { name: "tank_full", pin: 4, activeLevel: 1, pull: "down" };
const PEOPLE = { name: "people", pin: 12, activeLevel: 0, pull: "up" };

/** A pump past its boot report, with the link up and the boot's minimum off time over (unless raw). */
function setup(extra: Partial<PumpConfig>, levels?: number[], raw?: boolean) {
  const cfg = config(extra);
  const clock = new FakeClock(1000);
  const relay = new FakeRelay();
  const inputs = cfg.interlocks.map((il, i) => new FakeInput(levels ? levels[i] : 1 - il.activeLevel, relay));
  const log = new Log(relay, cfg.activeLow);
  const pump = new Pump(cfg, relay, inputs, clock, log);
  if (!raw) {
    clock.tick(0);
    pump.io(P_LINK_UP);
    clock.tick(cfg.minOffSeconds * 1000);
    log.take();
  }
  return { cfg, clock, relay, inputs, log, pump };
}

function attrs(pump: Pump): any {
  return JSON.parse(pump.io(P_ATTRIBUTES));
}

test("boot: OFF level written before anything else, events only later", () => {
  const t = setup({ interlocks: [TANK, PEOPLE] }, [1, 1], true);
  assert.deepEqual(t.relay.writes, [0]);
  assert.deepEqual(t.inputs[0].relayAtRead, [0]);
  assert.deepEqual(t.inputs[1].relayAtRead, [0]);
  assert.deepEqual(t.log.lines, [], "nothing reported from inside the constructor");
  assert.equal(t.pump.on, false);
  t.clock.tick(0);
  assert.deepEqual(t.log.take(), ["OFF boot", "interlock tank_full active", "interlock people clear"]);
  assert.deepEqual(attrs(t.pump), { reason: "boot", run_seconds: 0, left_seconds: 0, changes: 0, refused: 0, last_refused: "" });
  assert.equal(t.clock.pending(), 1, "with interlocks, the poll timer stays");
  assert.equal(t.clock.next(), POLL_MS);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.inputs[0].relayAtRead, [0, 0], "one read per poll");
});

test("boot: without interlocks, no timer is left once idle", () => {
  const t = setup({}, undefined, true);
  t.clock.tick(0);
  assert.deepEqual(t.log.take(), ["OFF boot"]);
  assert.equal(t.clock.pending(), 0);
});

test("boot: a command before the boot timer still gets the boot report first", () => {
  const t = setup({ minOffSeconds: 0 }, undefined, true);
  t.pump.io(P_LINK_UP);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["OFF boot", "ON command"]);
  t.clock.tick(0);
  assert.deepEqual(t.log.take(), []);
});

test("boot: active-low relay is written high (off) first", () => {
  const t = setup({ activeLow: true }, undefined, true);
  assert.deepEqual(t.relay.writes, [1]);
});

test("polarity: activeLow drives 0 for ON and 1 for OFF", () => {
  for (const activeLow of [false, true]) {
    const t = setup({ activeLow });
    t.pump.io(P_COMMAND, "ON", false);
    assert.equal(t.relay.level, activeLow ? 0 : 1);
    assert.equal(t.pump.on, true);
    t.pump.io(P_COMMAND, "OFF", false);
    assert.equal(t.relay.level, activeLow ? 1 : 0);
    assert.deepEqual(t.log.take(), ["ON command", "OFF command"]);
  }
});

test("boot: ON within the minimum off time after boot is refused", () => {
  const t = setup({ minOffSeconds: 10 }, undefined, true);
  t.clock.tick(0);
  t.pump.io(P_LINK_UP);
  t.clock.tick(9000);
  t.log.take();
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: minimum off time, 1 s left"]);
  t.clock.tick(1000);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["ON command"]);
});

test("retained: ON, OFF and garbage on a retained message are all ignored and refused", () => {
  const t = setup({});
  for (const p of ["ON", "{\"state\":\"ON\",\"seconds\":5}", "OFF", "junk"]) t.pump.io(P_COMMAND, p, true);
  assert.equal(t.pump.on, false);
  const lines = t.log.take();
  assert.equal(lines.length, 4);
  for (const l of lines) assert.equal(l, "refused: retained message on pump/set ignored: a stored command never drives the pump");
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_COMMAND, "OFF", true);
  assert.equal(t.pump.on, true, "a retained OFF is ignored too (the pump was started by a live command)");
  assert.equal(attrs(t.pump).refused, 5);
});

test("invalid payloads are refused and leave the state alone", () => {
  const t = setup({});
  t.pump.io(P_COMMAND, "MAYBE", false);
  assert.equal(t.pump.on, false);
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_COMMAND, "", false);
  t.pump.io(P_COMMAND, "{\"state\":\"OFF\",\"seconds\":1}", false);
  assert.equal(t.pump.on, true);
  assert.deepEqual(t.log.take(), [
    "refused: expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}, got \"MAYBE\"",
    "ON command",
    "refused: expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}, got an empty payload",
    "refused: JSON command: seconds only goes with \"ON\""
  ]);
});

test("max run time: auto-off exactly at maxRunSeconds", () => {
  const t = setup({ maxRunSeconds: 60 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(59999);
  assert.equal(t.pump.on, true);
  assert.equal(attrs(t.pump).left_seconds, 1);
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout"]);
  assert.equal(attrs(t.pump).reason, "timeout");
});

test("max run time: seconds shortens the run, never extends it", () => {
  const t = setup({ maxRunSeconds: 60, minOffSeconds: 0 });
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":5}", false);
  t.clock.tick(4999);
  assert.equal(t.pump.on, true);
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":3600}", false);
  assert.equal(attrs(t.pump).left_seconds, 60);
  t.clock.tick(59999);
  assert.equal(t.pump.on, true);
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout", "ON command", "OFF timeout"]);
});

test("ON while ON: never extends; a shorter run shortens it", () => {
  const t = setup({ maxRunSeconds: 60 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(30000);
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":40}", false);
  assert.deepEqual(t.log.take(), [
    "ON command",
    "refused: ON refused: already ON with 30 s left; ON cannot extend a run",
    "refused: ON refused: already ON with 30 s left; ON cannot extend a run"
  ]);
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":10}", false);
  assert.deepEqual(t.log.take(), ["ON command"], "reported again so the shorter run gets published");
  assert.deepEqual(attrs(t.pump), { reason: "command", run_seconds: 30, left_seconds: 10, changes: 1, refused: 2, last_refused: "ON refused: already ON with 30 s left; ON cannot extend a run" });
  t.clock.tick(9999);
  assert.equal(t.pump.on, true);
  t.clock.tick(1);
  assert.deepEqual(t.log.take(), ["OFF timeout"]);
});

test("minimum off time: ON refused with the seconds left, then accepted", () => {
  const t = setup({ minOffSeconds: 30 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(5000);
  t.pump.io(P_COMMAND, "OFF", false);
  t.clock.tick(10000);
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(19001);
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(999);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), [
    "ON command",
    "OFF command",
    "refused: ON refused: minimum off time, 20 s left",
    "refused: ON refused: minimum off time, 1 s left",
    "ON command"
  ]);
});

test("minimum off time also follows an automatic OFF", () => {
  const t = setup({ minOffSeconds: 30, maxRunSeconds: 5 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(5000);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout", "refused: ON refused: minimum off time, 30 s left"]);
});

test("OFF is always obeyed, OFF while OFF changes nothing", () => {
  const t = setup({ minOffSeconds: 30 });
  t.pump.io(P_COMMAND, "OFF", false);
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_COMMAND, "off", false);
  t.pump.io(P_COMMAND, "OFF", false);
  t.pump.io(P_COMMAND, "{\"state\":\"OFF\"}", false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF command"]);
  assert.equal(attrs(t.pump).changes, 2);
});

test("interlock active at boot: reported, ON refused naming it, and not remembered", () => {
  const t = setup({ interlocks: [TANK, PEOPLE] }, [1, 1]);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: interlock \"tank_full\" is active"]);
  t.inputs[0].set(0);
  t.clock.tick(POLL_MS * (RELEASE_SAMPLES - 1));
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: interlock \"tank_full\" is active"], "still active until the release is debounced");
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full clear"]);
  t.clock.tick(60000);
  assert.equal(t.pump.on, false, "the ON sent during the interlock was not remembered");
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["ON command"]);
});

test("interlock read active while running: OFF at the next poll, reported active at once", () => {
  const t = setup({ interlocks: [TANK, PEOPLE] });
  t.pump.io(P_COMMAND, "ON", false);
  const next = t.clock.next(); // the next poll
  assert.ok(next > 0 && next <= POLL_MS);
  t.inputs[1].set(0); // people present (active low)
  t.clock.tick(next - 1);
  assert.equal(t.pump.on, true, "not sampled yet");
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  assert.equal(t.relay.level, 0);
  assert.deepEqual(t.log.take(), ["ON command", "OFF interlock:people", "interlock people active"]);
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_COMMAND, "OFF", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: interlock \"people\" is active"]);
  assert.equal(attrs(t.pump).reason, "interlock:people");
});

test("interlock: the OFF names the interlock whose input reads active (the first in config order)", () => {
  const LEAK = { name: "leak", pin: 13, activeLevel: 1, pull: "down" };
  const t = setup({ interlocks: [TANK, LEAK] });
  t.pump.io(P_COMMAND, "ON", false);
  t.inputs[1].set(1);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["ON command", "OFF interlock:leak", "interlock leak active"]);
  t.inputs[1].set(0);
  t.clock.tick(POLL_MS * RELEASE_SAMPLES);
  t.log.take();
  t.clock.tick(60000);
  t.pump.io(P_COMMAND, "ON", false);
  t.inputs[0].set(1);
  t.inputs[1].set(1);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["ON command", "OFF interlock:tank_full", "interlock tank_full active", "interlock leak active"]);
});

test("interlock: Espruino's Pin (read() gives a boolean) works like a 0/1 input, either active level", () => {
  const cfg = config({ interlocks: [TANK, PEOPLE], minOffSeconds: 0 });
  const clock = new FakeClock(1000);
  const relay = new FakeRelay();
  const inputs = [new FakeInput(0, relay, true), new FakeInput(1, relay, true)];
  const log = new Log(relay, false);
  const pump = Pump(cfg, relay, inputs, clock, log);
  clock.tick(0);
  pump.io(P_LINK_UP);
  assert.deepEqual(log.take(), ["OFF boot", "interlock tank_full clear", "interlock people clear"]);
  pump.io(P_COMMAND, "ON", false);
  inputs[1].set(0);
  clock.tick(POLL_MS);
  assert.deepEqual(log.take(), ["ON command", "OFF interlock:people", "interlock people active"]);
});

test("interlock: released only after RELEASE_SAMPLES inactive samples in a row; one active sample restarts it", () => {
  const t = setup({ interlocks: [TANK] });
  t.clock.tick(t.clock.next()); // align with the poll
  t.inputs[0].set(1);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full active"], "active from its first active sample");
  // Bouncing: inactive, inactive, active, then inactive for good.
  t.inputs[0].set(0);
  t.clock.tick(2 * POLL_MS);
  t.inputs[0].set(1);
  t.clock.tick(POLL_MS);
  t.inputs[0].set(0);
  t.clock.tick((RELEASE_SAMPLES - 1) * POLL_MS);
  assert.deepEqual(t.log.take(), [], "not released while bouncing");
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: interlock \"tank_full\" is active"]);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full clear"]);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["ON command"]);
});

test("interlock: a single active sample stops the pump and is reported, even if the input is clear again at once", () => {
  const t = setup({ interlocks: [TANK] });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(t.clock.next() - 1);
  t.inputs[0].set(1);
  t.clock.tick(1);
  t.inputs[0].set(0);
  assert.deepEqual(t.log.take(), ["ON command", "OFF interlock:tank_full", "interlock tank_full active"]);
  t.clock.tick(RELEASE_SAMPLES * POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full clear"]);
});

test("interlock: the poll keeps its pace however often other inputs re-arm the timer", () => {
  const t = setup({ interlocks: [TANK] });
  t.pump.io(P_COMMAND, "ON", false);
  t.inputs[0].set(1);
  // Link flaps every 10 ms (each re-arms the timer) must not push the poll back.
  for (let i = 0; i < 10 && t.pump.on; i++) {
    t.pump.io(P_LINK_DOWN);
    t.pump.io(P_LINK_UP);
    t.clock.tick(10);
  }
  assert.equal(t.pump.on, false, "sampled within one poll interval");
});

test("interlock: ON refused while the input reads active even before a poll has seen it", () => {
  const t = setup({ interlocks: [TANK] });
  t.inputs[0].level = 1;
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: interlock \"tank_full\" is active"]);
});

test("link: ON refused before linkUp and while down", () => {
  const t = setup({ minOffSeconds: 0 }, undefined, true);
  t.clock.tick(0);
  t.log.take();
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_LINK_UP);
  t.pump.io(P_LINK_DOWN);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: the broker link is down", "refused: ON refused: the broker link is down"]);
});

test("link lost for linkLostOffSeconds: OFF", () => {
  const t = setup({ linkLostOffSeconds: 5 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(1000);
  t.pump.io(P_LINK_DOWN);
  t.clock.tick(4999);
  assert.equal(t.pump.on, true);
  t.pump.io(P_LINK_DOWN); // repeated: the countdown keeps its start
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF link-lost"]);
  assert.equal(attrs(t.pump).reason, "link-lost");
});

test("link back before linkLostOffSeconds: the run goes on to its own end", () => {
  const t = setup({ linkLostOffSeconds: 5, maxRunSeconds: 60 });
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_LINK_DOWN);
  t.clock.tick(4000);
  t.pump.io(P_LINK_UP);
  t.clock.tick(10000);
  assert.equal(t.pump.on, true);
  t.clock.tick(46000);
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout"]);
});

test("link lost: the countdown starts when the link was really lost (last packet heard), not when it was noticed", () => {
  const t = setup({ linkLostOffSeconds: 2, maxRunSeconds: 60 });
  t.pump.io(P_COMMAND, "ON", false);
  const lastHeard = t.clock.now();
  t.clock.tick(7500); // keepalive notices a silently dead link 1.5 x 5 s later
  assert.equal(t.pump.on, true);
  t.pump.io(P_LINK_DOWN, lastHeard);
  assert.equal(t.pump.on, false, "lost for 7.5 s > 2 s: OFF at once");
  assert.deepEqual(t.log.take(), ["ON command", "OFF link-lost"]);
  const u = setup({ linkLostOffSeconds: 5, maxRunSeconds: 60 });
  u.pump.io(P_COMMAND, "ON", false);
  const heard = u.clock.now();
  u.clock.tick(3000);
  u.pump.io(P_LINK_DOWN, heard);
  u.clock.tick(1999);
  assert.equal(u.pump.on, true);
  u.clock.tick(1);
  assert.equal(u.pump.on, false, "5 s after the last packet");
  const v = setup({ linkLostOffSeconds: 5 });
  v.pump.io(P_COMMAND, "ON", false);
  v.pump.io(P_LINK_DOWN, v.clock.now() + 10000); // a time in the future counts as now
  v.clock.tick(4999);
  assert.equal(v.pump.on, true);
});

test("link lost with linkLostOffSeconds 0: OFF immediately", () => {
  const t = setup({ linkLostOffSeconds: 0 });
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_LINK_DOWN);
  assert.equal(t.pump.on, false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF link-lost"]);
});

test("duty cycle: run cut to the budget, then refused until the window slides", () => {
  // 30 s per 2 min, max run 60 s, min off 10 s.
  const t = setup({ maxRunSeconds: 60, dutyCycle: { maxRunSeconds: 30, windowMinutes: 2 } });
  t.pump.io(P_COMMAND, "ON", false); // t0
  assert.equal(attrs(t.pump).left_seconds, 30);
  t.clock.tick(29999);
  assert.equal(t.pump.on, true);
  t.clock.tick(1);
  assert.deepEqual(t.log.take(), ["ON command", "OFF duty-cycle"]);
  t.clock.tick(10000); // t0+40 s: min off over, but 30 s used
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["refused: ON refused: duty cycle, ran 30 s of 30 s allowed per 2 min"]);
  t.clock.tick(90000); // t0+130 s: the window (10 s .. 130 s] holds 20 s of the run
  t.pump.io(P_COMMAND, "ON", false);
  assert.equal(attrs(t.pump).left_seconds, 10);
  t.clock.tick(10000);
  assert.deepEqual(t.log.take(), ["ON command", "OFF duty-cycle"]);
  assert.equal(attrs(t.pump).reason, "duty-cycle");
});

test("duty cycle: a command shorter than the budget ends as a timeout", () => {
  const t = setup({ dutyCycle: { maxRunSeconds: 30, windowMinutes: 2 } });
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":20}", false);
  t.clock.tick(20000);
  t.clock.tick(10000);
  t.pump.io(P_COMMAND, "ON", false); // 10 s left in the budget
  t.clock.tick(10000);
  t.clock.tick(10000);
  t.pump.io(P_COMMAND, "ON", false); // budget gone
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout", "ON command", "OFF duty-cycle", "refused: ON refused: duty cycle, ran 30 s of 30 s allowed per 2 min"]);
});

test("duty cycle: less than a second of budget refuses rather than clicking the relay", () => {
  const t = setup({ minOffSeconds: 0, dutyCycle: { maxRunSeconds: 10, windowMinutes: 1 } });
  t.pump.io(P_COMMAND, "{\"state\":\"ON\",\"seconds\":9.5}", false);
  t.clock.tick(9500);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), ["ON command", "OFF timeout", "refused: ON refused: duty cycle, ran 10 s of 10 s allowed per 1 min"]);
});

test("duty window: more runs than slots are merged, over-counting only", () => {
  const w = new Float64Array(DUTY_SIZE);
  w[D_WINDOW_MS] = 60000;
  const add = (start: number, end: number) => dutyUsed(w, end, start, end);
  const usedMs = (now: number) => dutyUsed(w, now, -1, -1);
  for (let i = 0; i < DUTY_SLOTS; i++) add(i * 2000, i * 2000 + 1000);
  assert.equal(usedMs(16000), DUTY_SLOTS * 1000);
  add(16000, 17000); // merges [0,1000) and [2000,3000) into [0,3000)
  assert.equal(usedMs(17000), (DUTY_SLOTS + 1) * 1000 + 1000);
  assert.equal(usedMs(61000), (DUTY_SLOTS + 1) * 1000 + 1000 - 1000, "window (1 s, 61 s] clips the merged run");
  assert.equal(add(200000, 201000), 1000, "everything older is out of the window and dropped");
  assert.equal(usedMs(201000), 1000);
});

test("stale dependency: ON refused until a fresh reading, OFF when readings stop", () => {
  const t = setup({ maxRunSeconds: 300, requires: { sensor: "air", maxAgeSeconds: 20 } });
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_SENSOR_OK, "water");
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_SENSOR_OK, "air");
  t.pump.io(P_COMMAND, "ON", false);
  for (let i = 0; i < 10; i++) {
    t.clock.tick(15000);
    t.pump.io(P_SENSOR_OK, "air");
  }
  assert.equal(t.pump.on, true);
  t.clock.tick(19999);
  assert.equal(t.pump.on, true);
  t.clock.tick(1);
  assert.equal(t.pump.on, false);
  t.clock.tick(20000);
  t.pump.io(P_COMMAND, "ON", false);
  assert.deepEqual(t.log.take(), [
    "refused: ON refused: sensor \"air\" has given no valid reading yet (limit 20 s)",
    "refused: ON refused: sensor \"air\" has given no valid reading yet (limit 20 s)",
    "ON command",
    "OFF stale:air",
    "refused: ON refused: sensor \"air\" has given no valid reading for 40 s (limit 20 s)"
  ]);
});

test("stale dependency: readings do not arm timers", () => {
  const t = setup({ requires: { sensor: "air", maxAgeSeconds: 20 } });
  t.pump.io(P_SENSOR_OK, "air");
  t.pump.io(P_COMMAND, "ON", false);
  const before = t.clock.pending();
  for (let i = 0; i < 100; i++) t.pump.io(P_SENSOR_OK, "air");
  assert.equal(t.clock.pending(), before);
  assert.equal(before, 1, "one timer serves every deadline");
});

test("counters and attributes JSON", () => {
  const t = setup({ maxRunSeconds: 60, minOffSeconds: 0 });
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(12345);
  t.pump.io(P_COMMAND, "bogus\"quote", false);
  assert.deepEqual(attrs(t.pump), {
    reason: "command",
    run_seconds: 12,
    left_seconds: 48,
    changes: 1,
    refused: 1,
    last_refused: "expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}, got \"bogus\\\"quote\""
  });
  t.clock.tick(47655);
  t.pump.io(P_COMMAND, "ON", true);
  assert.deepEqual(attrs(t.pump), { reason: "timeout", run_seconds: 0, left_seconds: 0, changes: 2, refused: 2, last_refused: "retained message on pump/set ignored: a stored command never drives the pump" });
  assert.match(t.pump.io(P_ATTRIBUTES), /^\{"reason":"timeout","run_seconds":0,"left_seconds":0,"changes":2,"refused":2,"last_refused":"[^"]*"\}$/);
});

test("allOff: OFF now with the given reason; rewrites the OFF level when already off", () => {
  const t = setup({ activeLow: true });
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_ALL_OFF, "watchdog");
  assert.equal(t.relay.level, 1);
  t.relay.level = 0; // a glitch on the pin
  t.pump.io(P_ALL_OFF, "watchdog");
  assert.equal(t.relay.level, 1);
  assert.deepEqual(t.log.take(), ["ON command", "OFF watchdog"]);
  assert.equal(attrs(t.pump).reason, "watchdog");
});

test("close: relay OFF, no timers (no more polling), commands ignored", () => {
  const t = setup({ interlocks: [TANK] });
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_LINK_DOWN);
  t.log.take();
  t.pump.io(P_COMMAND, "ON", false); // refused: link down (not recorded below)
  t.pump.io(P_CLOSE);
  t.pump.io(P_CLOSE);
  assert.equal(t.relay.level, 0);
  assert.equal(t.clock.pending(), 0);
  const reads = t.inputs[0].relayAtRead.length;
  t.inputs[0].set(1);
  t.pump.io(P_COMMAND, "ON", false);
  t.pump.io(P_LINK_UP);
  t.pump.io(P_COMMAND, "ON", false);
  t.clock.tick(100000);
  assert.deepEqual(t.log.take(), ["refused: ON refused: the broker link is down"]);
  assert.equal(t.pump.on, false);
  assert.equal(t.clock.staleClears, 0);
  assert.equal(t.inputs[0].relayAtRead.length, reads, "inputs no longer read");
});

test("a publisher that throws cannot keep the relay on or stop the timers", () => {
  const t = setup({ maxRunSeconds: 10, minOffSeconds: 0, interlocks: [TANK] });
  const boom = () => {
    throw new Error("publish queue full");
  };
  t.pump.io(P_LINK_UP);
  t.log.onChange = boom;
  t.log.onRefused = boom;
  t.log.onInterlock = boom;
  assert.throws(() => t.pump.io(P_COMMAND, "ON", false), /queue full/);
  assert.equal(t.relay.level, 1, "the pin holds ON before the event is called");
  assert.throws(() => t.clock.tick(10000), /queue full/);
  assert.equal(t.relay.level, 0);
  assert.throws(() => t.pump.io(P_COMMAND, "ON", false), /queue full/);
  assert.equal(t.relay.level, 1);
  t.inputs[0].set(1);
  assert.throws(() => t.clock.tick(POLL_MS), /queue full/);
  assert.equal(t.relay.level, 0, "interlock OFF before the throwing event");
  assert.equal(t.pump.on, false);
  assert.equal(t.clock.pending(), 1, "the poll goes on");
  assert.throws(() => t.clock.tick(POLL_MS), /queue full/, "the interlock report that threw is given again");
  t.log.onInterlock = Log.prototype.onInterlock;
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full active"]);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), [], "reported once it went through");
  t.inputs[0].set(0);
  assert.throws(() => t.pump.io(P_COMMAND, "ON", false), /queue full/);
  assert.equal(t.pump.on, false, "the interlock was recorded although its event threw");
  assert.equal(attrs(t.pump).refused, 1);
});

test("a throwing boot report does not lose the interlocks' boot report", () => {
  const t = setup({ interlocks: [TANK, PEOPLE] }, [1, 1], true);
  const onChange = t.log.onChange;
  t.log.onChange = (on, reason) => {
    if (reason === "boot") throw new Error("not connected yet");
    onChange.call(t.log, on, reason);
  };
  assert.throws(() => t.clock.tick(0), /not connected yet/);
  t.clock.tick(POLL_MS);
  assert.deepEqual(t.log.take(), ["interlock tank_full active", "interlock people clear"]);
});

test("constructor refuses a pin list that does not match the config, with the relay already OFF", () => {
  const relay = new FakeRelay();
  assert.throws(() => new Pump(config({ interlocks: [TANK], activeLow: true }), relay, [], new FakeClock(), new Log(relay, true)), /0 interlock pins for 1 configured/);
  assert.deepEqual(relay.writes, [1]);
});
