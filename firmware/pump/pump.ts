/*
 * The pump state machine: the only writer of the relay pin. Whatever arrives on the command topic, the
 * rules below hold on the device itself; no MQTT message can change them (they come from PumpConfig).
 *
 * Safety rules, in the order an ON command is checked (the first that fails refuses it, by onRefused):
 *  1. Retained commands are ignored, whatever they say (even OFF): a stale or planted ON never starts
 *     the pump. Invalid payloads (see command.ts) are refused; the state is unchanged.
 *  2. Interlocks: while one is active, ON is refused naming it and is not remembered for later. An edge
 *     of an interlock input to its active level turns the relay OFF at once (before any debounce: a
 *     glitch can only stop the pump). Its published state (onInterlock) changes once the level has been
 *     stable for DEBOUNCE_MS; ON stays refused until the input reads inactive and that has been reported.
 *  3. Broker link: ON is refused while the link is down (commands only come over it). When the link goes
 *     down while running, the relay goes OFF after linkLostOffSeconds (0 = at once) unless it comes back.
 *  4. Stale dependency (cfg.requires): ON is refused until the named sensor has given a valid reading
 *     within maxAgeSeconds; while running, maxAgeSeconds without one turns the relay OFF.
 *  5. ON while already ON never extends the run: with seconds ending sooner than the current run it
 *     shortens it (onChange(true, R_COMMAND) is repeated so the new attributes get published); otherwise
 *     it is refused with the time left. The only way to a longer run is OFF, the minimum off time, ON.
 *  6. Minimum off time between runs, counted from the last OFF and also from boot (the relay may have
 *     been running before a reset): ON during it is refused with the seconds left.
 *  7. Duty cycle (cfg.dutyCycle): at most maxRunSeconds of running in any window of windowMinutes (see
 *     duty.ts for the bookkeeping). ON is refused when less than DUTY_MIN_RUN_MS is left; otherwise the
 *     run is cut to what is left, fixed when it starts, and its auto-off is reported as R_DUTY.
 *  8. Maximum run time: every run ends after cfg.maxRunSeconds at most (R_TIMEOUT); a command's seconds
 *     can only shorten it.
 * OFF (valid, not retained) is always obeyed, whatever the state; OFF while OFF changes nothing.
 *
 * Time comes only from the injected Clock (now() >= 0, milliseconds). One timer serves every deadline
 * (boot report, debounce, run end, link lost, stale sensor): it is re-armed for the earliest one when the
 * state changes, and a sensor reading only moves a timestamp (the timer, when it fires early, re-arms
 * itself). Event handlers may throw (the exception reaches the caller or the timer): the pin is written
 * and the next deadline armed before any event is called, so a failing publisher cannot keep the pump on.
 *
 * Wiring (firmware/main.ts): build it only when config.pump is set; command(payload, retainFlag) for every
 * PUBLISH on <prefix>/<id>/pump/set; linkUp() on CONNACK, linkDown() when the session is lost;
 * sensorOk(name) for each valid reading; allOff(reason) on a fatal error before rebooting.
 * Memory: about 140 JsVars with one interlock and a duty cycle (Espruino 2v29, 12-byte JsVars), constant
 * afterwards; a command allocates nothing that outlives it except the last refusal message.
 */
import type { Clock, InputPin, OutputPin } from "../types";
import type { InterlockConfig, PumpConfig } from "../config";
import { R_BOOT, R_COMMAND, R_DUTY, R_INTERLOCK, R_LINK_LOST, R_STALE, R_TIMEOUT, T_PUMP_SET } from "../constants";
import { parseCommand } from "./command";
import { DutyWindow } from "./duty";

/** An interlock input must hold its level this long before its state is reported. */
export const DEBOUNCE_MS = 50;
/** A duty-cycle budget smaller than this refuses ON rather than clicking the relay for an instant. */
export const DUTY_MIN_RUN_MS = 1000;
/** Deadlines this close count as reached (timers may fire a hair early; stopping sooner is safe). */
const SLACK_MS = 1;
const NONE = -1;

/** What the pump tells its owner (the publisher). Called after the pin holds the state, never reentrantly
 * from the constructor. */
export interface PumpEvents {
  /** The relay now holds `on` (pin already written). reason: R_BOOT, R_COMMAND, R_TIMEOUT, R_LINK_LOST,
   * R_INTERLOCK + ":" + name, R_DUTY, R_STALE + ":" + sensor, or what allOff() was given. */
  onChange(on: boolean, reason: string): void;
  /** A command was refused (invalid, retained, interlock, link down, stale, already on, min off, duty). */
  onRefused(message: string): void;
  /** An interlock's debounced state; also once per interlock at boot, right after onChange(false, R_BOOT). */
  onInterlock(name: string, active: boolean): void;
}

/** One interlock input with its handler, bound once. Internal to the pump. */
class Interlock {
  _pump: Pump;
  _name: string;
  _level: number;
  _pin: InputPin;
  /** Debounced state, as last reported. */
  _active: boolean;
  _watch: any;

  constructor(pump: Pump, cfg: InterlockConfig, pin: InputPin) {
    this._pump = pump;
    this._name = cfg.name;
    this._level = cfg.activeLevel;
    this._pin = pin;
    this._active = pin.read() === cfg.activeLevel;
    this._onEdge = this._onEdge.bind(this);
    this._watch = pin.watch(this._onEdge);
  }

  _onEdge(level: number): void {
    this._pump._edge(this, level === this._level);
  }

  /** True when ON must be refused: reported active, or reading active right now. */
  _blocks(): boolean {
    return this._active || this._pin.read() === this._level;
  }
}

/**
 * The pump relay and its safety rules (see the file header).
 *
 * Boot: the constructor writes the relay's OFF level first, then reads and watches the interlocks. It
 * reports nothing synchronously: onChange(false, R_BOOT) and then onInterlock(name, active) for each
 * interlock follow from a clock timeout of 0 ms (or before the first command, whichever comes first).
 * The link starts down: call linkUp() once the MQTT session is up (CONNACK accepted), linkDown() when it
 * is lost.
 */
export class Pump {
  private _cfg: PumpConfig;
  private _relay: OutputPin;
  private _clock: Clock;
  private _events: PumpEvents;
  private _locks: Interlock[];
  private _duty: DutyWindow | null;
  private _on: boolean;
  private _startMs: number;
  private _stopMs: number;
  private _stopReason: string;
  private _offMs: number;
  private _linkUp: boolean;
  private _linkDownMs: number;
  private _okMs: number;
  private _debounceMs: number;
  private _bootPending: boolean;
  private _closed: boolean;
  private _timer: any;
  private _timerAt: number;
  private _reason: string;
  private _changes: number;
  private _refused: number;
  private _lastRefused: string;

  /**
   * @param cfg validated pump config
   * @param relay the relay pin; written with the OFF level before anything else
   * @param interlocks one input per cfg.interlocks entry, same order
   * @param clock time and timers (milliseconds)
   * @param events called later, never from inside the constructor
   * @throws Error when interlocks.length differs from cfg.interlocks.length (the relay is already OFF)
   */
  constructor(cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents) {
    relay.write(cfg.activeLow ? 1 : 0);
    this._cfg = cfg;
    this._relay = relay;
    this._clock = clock;
    this._events = events;
    this._on = false;
    this._closed = false;
    var now = clock.now();
    this._startMs = now;
    this._stopMs = NONE;
    this._stopReason = R_TIMEOUT;
    this._offMs = now;
    this._linkUp = false;
    this._linkDownMs = now;
    this._okMs = NONE;
    this._debounceMs = NONE;
    this._bootPending = true;
    this._timer = undefined;
    this._timerAt = NONE;
    this._reason = R_BOOT;
    this._changes = 0;
    this._refused = 0;
    this._lastRefused = "";
    this._duty = cfg.dutyCycle ? new DutyWindow(cfg.dutyCycle.windowMinutes * 60000) : null;
    this._locks = [];
    if (interlocks.length !== cfg.interlocks.length) {
      throw new Error("pump: " + interlocks.length + " interlock pins for " + cfg.interlocks.length + " configured interlocks");
    }
    this._tick = this._tick.bind(this);
    for (var i = 0; i < interlocks.length; i++) this._locks.push(new Interlock(this, cfg.interlocks[i], interlocks[i]));
    this._schedule();
  }

  /** True while the relay is driven ON. */
  get on(): boolean {
    return this._on;
  }

  /**
   * Handle one message from the command topic.
   * @param payload the raw payload (byte string); see parseCommand for what is accepted
   * @param retained the message's RETAIN flag: a retained message is refused whatever it says
   */
  command(payload: string, retained: boolean): void {
    if (this._closed) return;
    if (this._bootPending) this._boot();
    if (retained) {
      this._refuse("retained message on " + T_PUMP_SET + " ignored: a stored command never drives the pump");
      return;
    }
    var c = parseCommand(payload);
    if (typeof c === "string") {
      this._refuse(c);
      return;
    }
    if (!c.on) {
      if (this._on) this._set(false, R_COMMAND);
      return;
    }
    this._start(c.seconds);
  }

  /** The MQTT session is up: commands may start the pump again. */
  linkUp(): void {
    if (this._closed || this._linkUp) return;
    this._linkUp = true;
    this._schedule();
  }

  /** The MQTT session is lost: OFF after cfg.linkLostOffSeconds unless linkUp() comes first. */
  linkDown(): void {
    if (this._closed || !this._linkUp) return;
    this._linkUp = false;
    this._linkDownMs = this._clock.now();
    if (this._on && this._cfg.linkLostOffSeconds === 0) this._set(false, R_LINK_LOST);
    else this._schedule();
  }

  /** A valid reading arrived from sensor `name` (only cfg.requires.sensor matters). Cheap: no timer work. */
  sensorOk(name: string): void {
    var r = this._cfg.requires;
    if (r && name === r.sensor) this._okMs = this._clock.now();
  }

  /** JSON for pump/attributes: reason of the last change, seconds run and left in the current run (0 when
   * OFF), number of relay changes and refused commands since boot, and the last refusal ("" if none). */
  attributes(): string {
    var now = this._clock.now();
    var run = this._on ? Math.floor((now - this._startMs) / 1000) : 0;
    var left = this._on ? Math.ceil((this._stopMs - now) / 1000) : 0;
    return "{\"reason\":" + JSON.stringify(this._reason) + ",\"run_seconds\":" + run + ",\"left_seconds\":" + (left > 0 ? left : 0) +
      ",\"changes\":" + this._changes + ",\"refused\":" + this._refused + ",\"last_refused\":" + JSON.stringify(this._lastRefused) + "}";
  }

  /** Force OFF now (shutdown, watchdog, bad state). Writes the OFF level even when already OFF; reports
   * onChange(false, reason) only when the relay was ON. */
  allOff(reason: string): void {
    if (this._on) this._set(false, reason);
    else this._relay.write(this._cfg.activeLow ? 1 : 0);
  }

  /** Relay OFF (without events), timers cancelled, interlocks unwatched. Later calls do nothing. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._relay.write(this._cfg.activeLow ? 1 : 0);
    this._on = false;
    if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
    this._timer = undefined;
    for (var i = 0; i < this._locks.length; i++) this._locks[i]._pin.unwatch(this._locks[i]._watch);
  }

  /** Called by an Interlock on every edge of its input. */
  _edge(lock: Interlock, active: boolean): void {
    if (this._closed) return;
    // Debounce armed before the OFF: its event may throw, the interlock must still get recorded.
    this._debounceMs = this._clock.now() + DEBOUNCE_MS;
    if (active && this._on) this._set(false, R_INTERLOCK + ":" + lock._name);
    else this._schedule();
  }

  private _start(seconds: number): void {
    var cfg = this._cfg;
    var now = this._clock.now();
    for (var i = 0; i < this._locks.length; i++) {
      if (this._locks[i]._blocks()) return this._refuse("ON refused: interlock \"" + this._locks[i]._name + "\" is active");
    }
    if (!this._linkUp) return this._refuse("ON refused: the broker link is down");
    var r = cfg.requires;
    if (r && (this._okMs === NONE || now - this._okMs >= r.maxAgeSeconds * 1000)) {
      return this._refuse("ON refused: sensor \"" + r.sensor + "\" has given no valid reading " +
        (this._okMs === NONE ? "yet" : "for " + Math.floor((now - this._okMs) / 1000) + " s") + " (limit " + r.maxAgeSeconds + " s)");
    }
    var runMs = cfg.maxRunSeconds * 1000;
    if (seconds > 0 && seconds * 1000 < runMs) runMs = seconds * 1000;
    if (this._on) {
      if (now + runMs < this._stopMs) {
        this._stopMs = now + runMs;
        this._stopReason = R_TIMEOUT;
        this._reason = R_COMMAND;
        this._schedule();
        this._events.onChange(true, R_COMMAND);
        return;
      }
      return this._refuse("ON refused: already ON with " + Math.ceil((this._stopMs - now) / 1000) + " s left; ON cannot extend a run");
    }
    var offLeft = this._offMs + cfg.minOffSeconds * 1000 - now;
    if (offLeft > 0) return this._refuse("ON refused: minimum off time, " + Math.ceil(offLeft / 1000) + " s left");
    var reason = R_TIMEOUT;
    var d = cfg.dutyCycle;
    if (d && this._duty) {
      var used = this._duty.usedMs(now);
      var budget = d.maxRunSeconds * 1000 - used;
      if (budget < DUTY_MIN_RUN_MS) {
        return this._refuse("ON refused: duty cycle, ran " + Math.round(used / 1000) + " s of " + d.maxRunSeconds + " s allowed per " + d.windowMinutes + " min");
      }
      if (budget < runMs) {
        runMs = budget;
        reason = R_DUTY;
      }
    }
    this._startMs = now;
    this._stopMs = now + runMs;
    this._stopReason = reason;
    this._set(true, R_COMMAND);
  }

  /** Write the relay, then record and report. The only place the relay pin changes state. */
  private _set(on: boolean, reason: string): void {
    var now = this._clock.now();
    this._relay.write(on !== this._cfg.activeLow ? 1 : 0);
    if (!on && this._on) {
      if (this._duty) this._duty.add(this._startMs, now);
      this._offMs = now;
      this._stopMs = NONE;
    }
    this._on = on;
    this._reason = reason;
    this._changes++;
    this._schedule();
    this._events.onChange(on, reason);
  }

  private _refuse(message: string): void {
    this._refused++;
    this._lastRefused = message;
    this._events.onRefused(message);
  }

  private _boot(): void {
    this._bootPending = false;
    this._events.onChange(false, R_BOOT);
    for (var i = 0; i < this._locks.length; i++) this._events.onInterlock(this._locks[i]._name, this._locks[i]._active);
  }

  /**
   * The single timer: handle whatever deadline has come, then re-arm for the next one. Stops come first
   * and re-arming happens in finally, so an event handler that throws (a full publish queue) can neither
   * delay an OFF nor leave the remaining deadlines without a timer.
   */
  private _tick(): void {
    this._timer = undefined;
    this._timerAt = NONE;
    if (this._closed) return;
    try {
      this._due();
    } finally {
      this._schedule();
    }
  }

  private _due(): void {
    var now = this._clock.now();
    if (this._on) {
      var cfg = this._cfg;
      var r = cfg.requires;
      if (this._stopMs - now < SLACK_MS) this._set(false, this._stopReason);
      else if (!this._linkUp && this._linkDownMs + cfg.linkLostOffSeconds * 1000 - now < SLACK_MS) this._set(false, R_LINK_LOST);
      else if (r && (this._okMs === NONE || this._okMs + r.maxAgeSeconds * 1000 - now < SLACK_MS)) this._set(false, R_STALE + ":" + r.sensor);
    }
    if (this._bootPending) this._boot();
    if (this._debounceMs !== NONE && this._debounceMs - now < SLACK_MS) {
      this._debounceMs = NONE;
      for (var i = 0; i < this._locks.length; i++) {
        var lock = this._locks[i];
        var active = lock._pin.read() === lock._level;
        if (active === lock._active) continue;
        lock._active = active;
        if (active && this._on) this._set(false, R_INTERLOCK + ":" + lock._name);
        this._events.onInterlock(lock._name, active);
      }
    }
  }

  /** Arm the single timer for the earliest pending deadline (or none). */
  private _schedule(): void {
    if (this._closed) return;
    var now = this._clock.now();
    var next = NONE;
    if (this._bootPending) next = now;
    if (this._debounceMs !== NONE && (next === NONE || this._debounceMs < next)) next = this._debounceMs;
    if (this._on) {
      if (next === NONE || this._stopMs < next) next = this._stopMs;
      var t: number;
      if (!this._linkUp) {
        t = this._linkDownMs + this._cfg.linkLostOffSeconds * 1000;
        if (t < next) next = t;
      }
      var r = this._cfg.requires;
      if (r) {
        t = this._okMs === NONE ? now : this._okMs + r.maxAgeSeconds * 1000;
        if (t < next) next = t;
      }
    }
    if (next === this._timerAt && this._timer !== undefined) return;
    if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
    this._timer = undefined;
    this._timerAt = next;
    if (next === NONE) return;
    // Whatever is due is handled by the tick that re-arms; a deadline still in the past here would be a
    // bug, and must not become a busy loop of 0 ms timers on the device.
    var delay = next - now;
    if (delay < SLACK_MS) delay = this._bootPending ? 0 : SLACK_MS;
    this._timer = this._clock.setTimeout(this._tick, delay);
  }
}
