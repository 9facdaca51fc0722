/*
 * The pump state machine: the only writer of the relay pin. Whatever arrives on the command topic, the
 * rules below hold on the device itself; no MQTT message can change them (they come from PumpConfig).
 *
 * Safety rules, in the order an ON command is checked (the first that fails refuses it, by onRefused):
 *  1. Retained commands are ignored, whatever they say (even OFF): a stale or planted ON never starts
 *     the pump. Invalid payloads (see command.ts) are refused; the state is unchanged.
 *  2. Interlocks: while one is active, ON is refused naming it and is not remembered for later. While the
 *     relay is ON, an edge of any interlock input to a level at which an interlock is active turns it OFF
 *     at once (before any debounce: a glitch can only stop the pump), naming that interlock (the one whose
 *     input reads that level, else the first with that active level). While ON every input reads
 *     inactive, so such an edge is an interlock going active. Published states (onInterlock) change once
 *     the inputs have been stable for DEBOUNCE_MS; ON stays refused until the input reads inactive and
 *     that has been reported.
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
 *
 * Memory (ESP8266: 1600 JsVars for the whole firmware; on Espruino every function object costs 5 JsVars
 * + 1 per parameter for as long as the firmware runs, and each property about 1, 2 for a float, a boolean
 * or a short string). Hence the shape of this class:
 *  - no private helper methods: besides the public ones, only _run, the state machine's one step (the
 *    only place the relay changes state, the timer handler, the interlock edge handler, re-arming);
 *  - ONE bound function (_cb, bound once) serves as the timer callback AND as every interlock's watch
 *    callback; _run tells them apart by its argument (undefined from the timer, 0/1 from an input);
 *  - `on` is a plain field, not a getter; the config is not kept: the few numbers needed (in seconds as
 *    configured: ints, 1 JsVar; in ms they would be floats, 2), and the interlocks in one flat array with
 *    their levels as bit masks; flags in one number; fields of unused features (duty cycle, required
 *    sensor) are never created;
 *  - a constructor function and a prototype literal at module level, not a `class`: TypeScript wraps an
 *    ES5 class in an IIFE, and Espruino gives every function defined two scopes deep (class IIFE inside
 *    the bundle's IIFE) its own 3-JsVar scope array: 8 JsVars a method instead of 5;
 *  - the validator (command.ts) and the duty window (duty.ts) are one function each.
 * Measured with bench/mem/pump.ts (see its header) on Espruino 2v29, 12-byte JsVars, two interlocks and a
 * duty cycle: about 160 JsVars in steady state (was about 480 as classes), half of it the functions
 * (constructor, 8 methods, dutyUsed), the rest the instance: duty window 18, interlocks 11, last refusal
 * up to 14, the bound callback 7, the armed timer 6, fields. The two input watches cost the platform
 * another ~20 each. A command allocates nothing that outlives it except the last refusal message.
 */
import type { Clock, InputPin, OutputPin } from "../types";
import type { PumpConfig } from "../config";
import { R_BOOT, R_COMMAND, R_DUTY, R_INTERLOCK, R_LINK_LOST, R_STALE, R_TIMEOUT, T_PUMP_SET } from "../constants";
import { parseCommand } from "./command";
import { dutyUsed, DUTY_SIZE, D_CAP_MS, D_WINDOW_MS } from "./duty";

/** An interlock input must hold its level this long before its state is reported. */
export const DEBOUNCE_MS = 50;
/** A duty-cycle budget smaller than this refuses ON rather than clicking the relay for an instant. */
export const DUTY_MIN_RUN_MS = 1000;
/** Deadlines this close count as reached (timers may fire a hair early; stopping sooner is safe). */
const SLACK_MS = 1;
const NONE = -1;

/** _flags: the boot report is still to be given. */
const F_BOOT = 1;
/** _flags: the current run ends by the duty-cycle budget (R_DUTY), not by its own length (R_TIMEOUT). */
const F_DUTY_END = 2;
/** _flags: close() was called. */
const F_CLOSED = 4;

/** _run(src): only re-arm the timer (after a state change made elsewhere). */
const RUN_ARM = 2;
/** _run(src): handle whatever is due now, the timer still being set. */
const RUN_DUE = 3;
/** _run(src, reason): switch the relay ON (or, while ON, report the run's new end), for reason. */
const RUN_ON = 4;
/** _run(src, reason): switch the relay OFF, for reason. */
const RUN_OFF = 5;

/** _locks holds, per interlock: its input pin, its name, its watch handle. */
const L_PIN = 0;
const L_NAME = 1;
const L_WATCH = 2;
const L_STRIDE = 3;

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

/** The pump relay and its safety rules (see the file header). Built with `new Pump(...)`. */
export interface Pump {
  /** True while the relay is driven ON. Read it; only the pump writes it. */
  on: boolean;
  /**
   * Handle one message from the command topic.
   * @param payload the raw payload (byte string); see parseCommand for what is accepted
   * @param retained the message's RETAIN flag: a retained message is refused whatever it says
   */
  command(payload: string, retained: boolean): void;
  /** The MQTT session is up: commands may start the pump again. */
  linkUp(): void;
  /**
   * The MQTT session is lost: OFF after cfg.linkLostOffSeconds (0: at once) unless linkUp() comes first.
   * sinceMs (clock time): when the link was really lost, e.g. the last packet heard from the broker when
   * keepalive found a silently dead link late; the countdown starts there. Default: now.
   */
  linkDown(sinceMs?: number): void;
  /** A valid reading arrived from sensor `name` (only cfg.requires.sensor matters). Cheap: no timer work. */
  sensorOk(name: string): void;
  /** JSON for pump/attributes: reason of the last change, seconds run and left in the current run (0 when
   * OFF), number of relay changes and refused commands since boot, and the last refusal ("" if none). */
  attributes(): string;
  /** Force OFF now (shutdown, watchdog, bad state). Writes the OFF level even when already OFF; reports
   * onChange(false, reason) only when the relay was ON. */
  allOff(reason: string): void;
  /** Relay OFF (without events), timers cancelled, interlocks unwatched. Later calls do nothing. */
  close(): void;

  // Internal: "_" names are mangled in the bundle; nothing outside this file reads them.
  _relay: OutputPin;
  _clock: Clock;
  _ev: PumpEvents;
  /** Relay level for OFF (1 with an active-low relay). */
  _offLevel: number;
  // Config numbers are kept in seconds as configured: ints (1 JsVar each), where ms would be floats (2).
  _maxRunSeconds: number;
  _minOffSeconds: number;
  _lostSeconds: number;
  /** Duty window (duty.ts), only with cfg.dutyCycle. */
  _duty?: Float64Array;
  /** cfg.requires, only when set: the sensor, its maximum age, its last valid reading (NONE: none yet). */
  _sensor?: string;
  _maxAgeSeconds?: number;
  _okMs?: number;
  /** Per interlock, L_STRIDE entries: input pin, name, watch handle. */
  _locks: any[];
  /** Bit i: the active level of interlock i. */
  _levels: number;
  /** Bit i: interlock i is reported active (debounced). */
  _active: number;
  /** F_* bits. */
  _flags: number;
  /** When the current run started. */
  _startMs: number;
  /** While ON: when the run ends. While OFF: when the last run ended (boot counts as one). */
  _stopMs: number;
  /** When the link went down; NONE while it is up. */
  _downMs: number;
  /** When the inputs will have been stable for DEBOUNCE_MS; NONE when nothing is pending. */
  _debounceMs: number;
  _timer: any;
  /** _run bound to this: the callback of the timer and of every interlock input. */
  _cb: (src?: number, reason?: string) => void;
  _reason: string;
  _changes: number;
  _refused: number;
  _lastRefused: string;
  _run(src?: number, reason?: string): void;
}

interface PumpConstructor {
  new (cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents): Pump;
  prototype: Pump;
}

/**
 * The pump relay and its safety rules (see the file header). A constructor function with its methods on
 * the prototype, written at module level rather than as a `class`: see "Memory" in the file header.
 *
 * Boot: the constructor writes the relay's OFF level first, then reads and watches the interlocks. It
 * reports nothing synchronously: onChange(false, R_BOOT) and then onInterlock(name, active) for each
 * interlock follow from a clock timeout of 0 ms, or before that from the first command or link loss.
 * The link starts down: call linkUp() once the MQTT session is up (CONNACK accepted), linkDown() when it
 * is lost.
 *
 * @param cfg validated pump config (not kept)
 * @param relay the relay pin; written with the OFF level before anything else
 * @param interlocks one input per cfg.interlocks entry, same order
 * @param clock time and timers (milliseconds)
 * @param events called later, never from inside the constructor
 * @throws Error when interlocks.length differs from cfg.interlocks.length (the relay is already OFF)
 */
export var Pump = function (this: Pump, cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents) {
  var off = cfg.activeLow ? 1 : 0;
  relay.write(off);
  this.on = false;
  this._relay = relay;
  this._clock = clock;
  this._ev = events;
  this._offLevel = off;
  this._maxRunSeconds = cfg.maxRunSeconds;
  this._minOffSeconds = cfg.minOffSeconds;
  this._lostSeconds = cfg.linkLostOffSeconds;
  var now = clock.now();
  this._startMs = now;
  this._stopMs = now;
  this._downMs = now;
  this._debounceMs = NONE;
  this._flags = F_BOOT;
  this._reason = R_BOOT;
  this._changes = 0;
  this._refused = 0;
  this._lastRefused = "";
  var d = cfg.dutyCycle;
  if (d) {
    this._duty = new Float64Array(DUTY_SIZE);
    this._duty[D_WINDOW_MS] = d.windowMinutes * 60000;
    this._duty[D_CAP_MS] = d.maxRunSeconds * 1000;
  }
  var r = cfg.requires;
  if (r) {
    this._sensor = r.sensor;
    this._maxAgeSeconds = r.maxAgeSeconds;
    this._okMs = NONE;
  }
  this._locks = [];
  this._levels = 0;
  this._active = 0;
  if (interlocks.length !== cfg.interlocks.length) {
    throw new Error("pump: " + interlocks.length + " interlock pins for " + cfg.interlocks.length + " configured interlocks");
  }
  this._cb = this._run.bind(this);
  for (var i = 0; i < interlocks.length; i++) {
    var level = cfg.interlocks[i].activeLevel;
    this._levels |= level << i;
    if (interlocks[i].read() === level) this._active |= 1 << i;
    this._locks.push(interlocks[i], cfg.interlocks[i].name, interlocks[i].watch(this._cb));
  }
  this._run(RUN_ARM);
} as any as PumpConstructor;

Pump.prototype = {
  command: function (this: Pump, payload: string, retained: boolean): void {
    if (this._flags & F_CLOSED) return;
    if (this._flags & F_BOOT) this._run(RUN_DUE);
    var c = retained ? "retained message on " + T_PUMP_SET + " ignored: a stored command never drives the pump" : parseCommand(payload);
    var on = typeof c === "number" && c >= 0;
    var msg = typeof c === "string" ? c : "";
    if (on) {
      // The rules in the order of the file header: the first that fails gives the refusal.
      var now = this._clock.now();
      var locks = this._locks;
      for (var k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
        if (this._active & bit || locks[k + L_PIN].read() === (this._levels & bit ? 1 : 0)) {
          msg = "ON refused: interlock \"" + locks[k + L_NAME] + "\" is active";
          break;
        }
      }
      var ok = this._okMs!;
      var runMs = (c as number) > 0 && (c as number) < this._maxRunSeconds ? (c as number) * 1000 : this._maxRunSeconds * 1000;
      var offLeft = this._stopMs + this._minOffSeconds * 1000 - now;
      var duty = this._duty;
      var used = duty ? dutyUsed(duty, now, NONE) : 0;
      if (msg !== "") {
        // refused by the interlock named in msg
      } else if (this._downMs !== NONE) {
        msg = "ON refused: the broker link is down";
      } else if (this._sensor !== undefined && (ok === NONE || now - ok >= this._maxAgeSeconds! * 1000)) {
        msg = "ON refused: sensor \"" + this._sensor + "\" has given no valid reading " +
          (ok === NONE ? "yet" : "for " + Math.floor((now - ok) / 1000) + " s") + " (limit " + this._maxAgeSeconds + " s)";
      } else if (this.on) {
        if (now + runMs >= this._stopMs) msg = "ON refused: already ON with " + Math.ceil((this._stopMs - now) / 1000) + " s left; ON cannot extend a run";
      } else if (offLeft > 0) {
        msg = "ON refused: minimum off time, " + Math.ceil(offLeft / 1000) + " s left";
      } else if (duty && duty[D_CAP_MS] - used < DUTY_MIN_RUN_MS) {
        msg = "ON refused: duty cycle, ran " + Math.round(used / 1000) + " s of " + duty[D_CAP_MS] / 1000 + " s allowed per " + duty[D_WINDOW_MS] / 60000 + " min";
      }
      if (msg === "") {
        // Start; or, while ON, shorten the run (its new end is a plain timeout). A start cut to what is left
        // of the duty budget ends as R_DUTY.
        this._flags &= ~F_DUTY_END;
        if (!this.on) {
          this._startMs = now;
          if (duty && duty[D_CAP_MS] - used < runMs) {
            runMs = duty[D_CAP_MS] - used;
            this._flags |= F_DUTY_END;
          }
        }
        this._stopMs = now + runMs;
      }
    } else if (msg === "" && !this.on) {
      return; // OFF while OFF changes nothing
    }
    if (msg === "") {
      this._run(on ? RUN_ON : RUN_OFF, R_COMMAND);
      return;
    }
    this._refused++;
    this._lastRefused = msg;
    this._ev.onRefused(msg);
  },

  linkUp: function (this: Pump): void {
    if (this._downMs === NONE) return;
    this._downMs = NONE;
    this._run(RUN_ARM);
  },

  linkDown: function (this: Pump, sinceMs?: number): void {
    if (this._downMs !== NONE) return; // repeated: the countdown keeps its start
    var now = this._clock.now();
    this._downMs = sinceMs !== undefined && sinceMs < now ? sinceMs : now;
    this._run(RUN_DUE); // with linkLostOffSeconds 0 the deadline is now
  },

  sensorOk: function (this: Pump, name: string): void {
    if (name === this._sensor) this._okMs = this._clock.now();
  },

  attributes: function (this: Pump): string {
    var now = this._clock.now();
    var run = this.on ? Math.floor((now - this._startMs) / 1000) : 0;
    var left = this.on ? Math.ceil((this._stopMs - now) / 1000) : 0;
    return "{\"reason\":" + JSON.stringify(this._reason) + ",\"run_seconds\":" + run + ",\"left_seconds\":" + (left > 0 ? left : 0) +
      ",\"changes\":" + this._changes + ",\"refused\":" + this._refused + ",\"last_refused\":" + JSON.stringify(this._lastRefused) + "}";
  },

  allOff: function (this: Pump, reason: string): void {
    if (this.on) this._run(RUN_OFF, reason);
    else this._relay.write(this._offLevel);
  },

  close: function (this: Pump): void {
    if (this._flags & F_CLOSED) return;
    this._flags |= F_CLOSED;
    this._relay.write(this._offLevel);
    this.on = false;
    if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
    this._timer = undefined;
    for (var k = 0; k < this._locks.length; k += L_STRIDE) this._locks[k + L_PIN].unwatch(this._locks[k + L_WATCH]);
  },

  /**
   * The state machine's one step, called through _cb by the timer (no argument) and by every interlock
   * input (its new level, 0 or 1), and directly with RUN_ON/RUN_OFF (a decided change and its reason),
   * RUN_DUE or RUN_ARM. In this order:
   *  1. the relay: the change asked for, or an OFF that is due (run end, link lost, stale sensor, or an
   *     interlock: an edge to its active level, or its input found active when the debounce settles). This
   *     is the only place the relay pin changes state; the timer is re-armed before onChange is called;
   *  2. the boot report; 3. the debounced interlock states (recorded, then reported);
   *  4. (finally) the single timer, re-armed for the earliest deadline left.
   * An event handler that throws (a full publish queue) can therefore neither delay an OFF nor lose a
   * deadline, and a boot report or debounce it interrupts stays pending for the next tick.
   */
  _run: function (this: Pump, src?: number, reason?: string): void {
    if (src === undefined) this._timer = undefined; // the timer fired: its id is spent
    if (this._flags & F_CLOSED) return;
    var now = this._clock.now();
    var locks = this._locks;
    var k: number;
    var bit: number;
    try {
      if (src === RUN_ARM) return; // straight to finally
      var edge = src === 0 || src === 1;
      var due = src === undefined || src === RUN_DUE;
      var settled = due && this._debounceMs !== NONE && this._debounceMs - now < SLACK_MS;
      var on = this.on;
      var why = "";
      /** Interlocks whose input reads their active level now; those that stop the pump; debounced changes. */
      var reading = 0;
      var stops = 0;
      var changed = 0;
      if (edge || settled) {
        for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
          if (locks[k + L_PIN].read() === (this._levels & bit ? 1 : 0)) reading |= bit;
        }
      }
      if (src === RUN_ON || src === RUN_OFF) {
        on = src === RUN_ON;
        why = reason!;
      } else if (edge) {
        // Debounce armed before the OFF: its event may throw, the edge must still count. Any interlock whose
        // active level is src may have caused the edge; one whose input reads it now is named first.
        this._debounceMs = now + DEBOUNCE_MS;
        stops = src ? this._levels : ~this._levels;
        if (stops & reading) stops &= reading;
      } else if (due && on) {
        var ok = this._okMs!;
        if (this._stopMs - now < SLACK_MS) why = this._flags & F_DUTY_END ? R_DUTY : R_TIMEOUT;
        else if (this._downMs !== NONE && this._downMs + this._lostSeconds * 1000 - now < SLACK_MS) why = R_LINK_LOST;
        else if (this._sensor !== undefined && (ok === NONE || ok + this._maxAgeSeconds! * 1000 - now < SLACK_MS)) why = R_STALE + ":" + this._sensor;
      }
      if (settled) {
        changed = reading ^ this._active;
        stops = changed & reading;
      }
      if (on && why === "") {
        for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
          if (stops & bit) {
            why = R_INTERLOCK + ":" + locks[k + L_NAME];
            break;
          }
        }
      }
      if (why !== "") {
        if (src !== RUN_ON) on = false;
        if (on !== this.on) {
          this._relay.write(on ? 1 - this._offLevel : this._offLevel);
          if (!on) {
            if (this._duty) dutyUsed(this._duty, now, this._startMs);
            this._stopMs = now;
          }
          this.on = on;
          this._changes++;
        }
        this._reason = why;
        this._run(RUN_ARM);
        this._ev.onChange(on, why);
      }
      if (due && this._flags & F_BOOT) {
        this._flags &= ~F_BOOT;
        // this._reason is still R_BOOT: nothing but a command (which reports the boot first) changes it while OFF.
        this._ev.onChange(false, this._reason);
        for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) this._ev.onInterlock(locks[k + L_NAME], (this._active & bit) !== 0);
      }
      if (settled) {
        this._debounceMs = NONE;
        this._active ^= changed;
        for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
          if (changed & bit) this._ev.onInterlock(locks[k + L_NAME], (reading & bit) !== 0);
        }
      }
    } finally {
      // Re-arm for the earliest deadline still pending (a past one is handled by the tick that re-arms;
      // the 1 ms floor keeps a bug from becoming a busy loop of 0 ms timers on the device).
      var next = this._flags & F_BOOT ? now : NONE;
      if (this._debounceMs !== NONE && (next === NONE || this._debounceMs < next)) next = this._debounceMs;
      if (this._flags & F_CLOSED) next = NONE; // closed by an event handler
      else if (this.on) {
        if (next === NONE || this._stopMs < next) next = this._stopMs;
        if (this._downMs !== NONE && this._downMs + this._lostSeconds * 1000 < next) next = this._downMs + this._lostSeconds * 1000;
        if (this._sensor !== undefined) {
          var t = this._okMs === NONE ? now : this._okMs! + this._maxAgeSeconds! * 1000;
          if (t < next) next = t;
        }
      }
      if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
      this._timer = undefined;
      if (next !== NONE) {
        var delay = next - now;
        if (delay < SLACK_MS) delay = this._flags & F_BOOT ? 0 : SLACK_MS;
        this._timer = this._clock.setTimeout(this._cb, delay);
      }
    }
  }
} as Pump;
