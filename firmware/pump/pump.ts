/*
 * The pump state machine: the only writer of the relay pin. Whatever arrives on the command topic, the
 * rules below hold on the device itself; no MQTT message can change them (they come from PumpConfig).
 *
 * Safety rules, in the order an ON command is checked (the first that fails refuses it, by onRefused):
 *  1. Retained commands are ignored, whatever they say (even OFF): a stale or planted ON never starts
 *     the pump. Invalid payloads (see command.ts) are refused; the state is unchanged.
 *  2. Interlocks, POLLED every POLL_MS (100 ms; no pin watches): an interlock is active while its input
 *     reads its active level. One sample reading active is enough: while the relay is ON it goes OFF at
 *     once, naming that interlock (the first one in config order if several read active), and the
 *     interlock counts (and is reported by onInterlock) as active from that sample on, with no debounce
 *     (the safe direction). It counts as released only once RELEASE_SAMPLES (3) consecutive samples read
 *     inactive, i.e. 200-300 ms after the input settles; then its release is reported. ON is refused,
 *     naming the interlock, while one counts as active or its input reads active at the moment of the
 *     command; a refused ON is not remembered for later. What polling gives up against an edge watch: an
 *     input that goes active and back between two samples (under 100 ms) may be missed; a float switch or
 *     presence sensor holds its level far longer than that. The poll runs only when interlocks are
 *     configured, on the pump's one timer.
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
 * (boot report, interlock poll, run end, link lost, stale sensor): it is re-armed for the earliest one when
 * the state changes, and a sensor reading only moves a timestamp (the timer, when it fires early, re-arms
 * itself). Event handlers may throw (the exception reaches the caller or the timer): the pin is written
 * and the next deadline armed before any event is called, so a failing publisher cannot keep the pump on;
 * an interlock state whose report threw is reported again at the next poll.
 *
 * Wiring (firmware/main.ts, firmware/node/node.ts): build it with Pump(cfg, relay, inputs, clock, events)
 * only when config.pump is set; then everything goes through pump.io(kind, ...) (a 2-letter name: a property name of up to 4 characters
 * fits in its own JsVar, a longer one takes a second):
 *   io(P_COMMAND, payload, retained)  every PUBLISH on <prefix>/<id>/pump/set
 *   io(P_LINK_UP)                      on CONNACK
 *   io(P_LINK_DOWN, sinceMs?)          when the session is lost
 *   io(P_SENSOR_OK, name)              for each valid reading
 *   io(P_ATTRIBUTES)                   returns the JSON for pump/attributes
 *   io(P_ALL_OFF, reason)              on a fatal error or shutdown
 *   io(P_CLOSE)                        relay OFF, timer cancelled, later inputs ignored
 *
 * Memory (ESP8266: 1600 JsVars for the whole firmware; on Espruino every function object costs 5 JsVars
 * + 1 per parameter for as long as the firmware runs, and each property about 1, 2 for a float, a boolean
 * or a short string). Hence the shape:
 *  - ONE function (pumpInput) for everything: the public inputs above (told apart by `kind`), the timer,
 *    and the state machine's step (internal kinds RUN_*); bound once (_cb) as the timer callback. Eight
 *    public methods on a prototype cost 48 JsVars, this function 8;
 *  - Pump is a factory returning a plain object, inlined into main.ts's boot code: no constructor or
 *    prototype stays in memory;
 *  - interlocks are polled on the pump's own timer rather than watched: Espruino's setWatch costs ~18
 *    JsVars per input plus a callback, and an input is then just Espruino's Pin object (firmware/platform.ts
 *    DeviceInputPin), no function of ours;
 *  - the config is not kept: the few numbers needed (in seconds as configured: ints, 1 JsVar; in ms they
 *    would be floats, 2); booleans as bits of _flags; all interlock state (active levels, last samples,
 *    what was reported) as bits of one int, _il; the interlocks' pins and names in one flat array; fields
 *    of unused features (duty cycle, required sensor) are never created;
 *  - the validator (command.ts) and the duty window (duty.ts) are one function each, each called from one
 *    place, so the minifier inlines them into pumpInput (a finished run goes into the duty window at the
 *    next ON check rather than when it ends, which keeps dutyUsed to one call);
 *  - a command allocates nothing that outlives it but the last refusal's message (_lastRefused, absent
 *    until a command is refused).
 * Measured with bench/mem/pump.ts (see its header) on Espruino 2v29, 12-byte JsVars, two interlocks and a
 * duty cycle: 103 JsVars in steady state, poll timer included (was 198 with the inputs watched, eight
 * methods on a prototype and a constructor, inputs' watches and wrappers included). In the full firmware
 * (bench/memory.ts firmware) the change took 119 JsVars off (730 -> 611 steady).
 */
import type { Clock, InputPin, OutputPin } from "../types";
import type { PumpConfig } from "../config";
import { R_BOOT, R_COMMAND, R_DUTY, R_INTERLOCK, R_LINK_LOST, R_STALE, R_TIMEOUT, T_PUMP_SET } from "../constants";
import { parseCommand } from "./command";
import { dutyUsed, DUTY_SIZE, D_CAP_MS, D_WINDOW_MS } from "./duty";

/** Interlock inputs are sampled this often (ms) while interlocks are configured. */
export const POLL_MS = 100;
/** An interlock counts as released once this many consecutive samples read inactive. */
export const RELEASE_SAMPLES = 3;
/** A duty-cycle budget smaller than this refuses ON rather than clicking the relay for an instant. */
export const DUTY_MIN_RUN_MS = 1000;
/** Deadlines this close count as reached (timers may fire a hair early; stopping sooner is safe). */
const SLACK_MS = 1;
const NONE = -1;

/** pump.io(kind, ...): see the file header and the Pump interface. */
export const P_COMMAND = 1;
export const P_LINK_UP = 2;
export const P_LINK_DOWN = 3;
export const P_SENSOR_OK = 4;
export const P_ATTRIBUTES = 5;
export const P_ALL_OFF = 6;
export const P_CLOSE = 7;
/** Internal kinds (the state machine's step); the timer calls with no kind at all. */
/** Only re-arm the timer (after a state change made elsewhere). */
const RUN_ARM = 8;
/** Handle whatever is due now, the timer still being set. */
const RUN_DUE = 9;
/** Switch the relay ON (or, while ON, report the run's new end), for reason a. */
const RUN_ON = 10;
/** Switch the relay OFF, for reason a. */
const RUN_OFF = 11;

/** _flags: the boot report is still to be given. */
const F_BOOT = 1;
/** _flags: the current run ends by the duty-cycle budget (R_DUTY), not by its own length (R_TIMEOUT). */
const F_DUTY_END = 2;
/** _flags: close() was called. */
const F_CLOSED = 4;
/** _flags: the relay's OFF level is 1 (active-low relay). */
const F_OFF_HIGH = 8;
/** _flags: the last run, [_startMs, _stopMs), is not in the duty window yet (recorded at the next ON). */
const F_UNRECORDED = 16;
/** _flags: from this bit on, one per interlock i (at most 4, config.ts): its input's active level is 1.
 * _flags stays under 1024, the largest int Espruino keeps inside the property's own JsVar. */
const F_LEVELS = 5;

/*
 * _il, the interlocks' state in one int; interlock i (at most 4, config.ts) is bit i of each 4-bit group:
 *   bits 0-3 the state last reported by onInterlock (active);
 *   bits 4-7 the newest sample (input read active), 8-11 the one before, 12-15 the one before that.
 * The debounced state (what counts as active) is the OR of the three samples: active from the first
 * active sample, released after RELEASE_SAMPLES (3) inactive ones. With nothing active _il is 0 (1 JsVar).
 */
const IL_BITS = 4;
const IL_MASK = 15;
/** The two older samples' bits. */
const IL_OLDER = 0xff00;

/** _locks holds, per interlock: its input pin, its name. */
const L_PIN = 0;
const L_NAME = 1;
const L_STRIDE = 2;

/** What the pump tells its owner (the publisher). Called after the pin holds the state, never reentrantly
 * from the factory. */
export interface PumpEvents {
  /** The relay now holds `on` (pin already written). reason: R_BOOT, R_COMMAND, R_TIMEOUT, R_LINK_LOST,
   * R_INTERLOCK + ":" + name, R_DUTY, R_STALE + ":" + sensor, or what P_ALL_OFF was given. */
  onChange(on: boolean, reason: string): void;
  /** A command was refused (invalid, retained, interlock, link down, stale, already on, min off, duty). */
  onRefused(message: string): void;
  /** An interlock's debounced state; also once per interlock at boot, right after onChange(false, R_BOOT). */
  onInterlock(name: string, active: boolean): void;
}

/** The pump relay and its safety rules (see the file header). Built with `Pump(...)` (or `new Pump(...)`). */
export interface Pump {
  /** True while the relay is driven ON. Read it; only the pump writes it. */
  on: boolean;
  /**
   * Handle one message from the command topic.
   * @param payload the raw payload (byte string); see parseCommand for what is accepted
   * @param retained the message's RETAIN flag: a retained message is refused whatever it says
   */
  io(kind: typeof P_COMMAND, payload: string, retained: boolean): void;
  /** The MQTT session is up: commands may start the pump again. */
  io(kind: typeof P_LINK_UP): void;
  /**
   * The MQTT session is lost: OFF after cfg.linkLostOffSeconds (0: at once) unless P_LINK_UP comes first.
   * sinceMs (clock time): when the link was really lost, e.g. the last packet heard from the broker when
   * keepalive found a silently dead link late; the countdown starts there. Default: now.
   */
  io(kind: typeof P_LINK_DOWN, sinceMs?: number): void;
  /** A valid reading arrived from sensor `name` (only cfg.requires.sensor matters). Cheap: no timer work. */
  io(kind: typeof P_SENSOR_OK, name: string): void;
  /** JSON for pump/attributes: reason of the last change, seconds run and left in the current run (0 when
   * OFF), number of relay changes and refused commands since boot, and the last refusal ("" if none). */
  io(kind: typeof P_ATTRIBUTES): string;
  /** Force OFF now (shutdown, watchdog, bad state). Writes the OFF level even when already OFF; reports
   * onChange(false, reason) only when the relay was ON. */
  io(kind: typeof P_ALL_OFF, reason: string): void;
  /** Relay OFF (without events), timer cancelled (no more polling). Later inputs do nothing (P_ALL_OFF
   * still writes the OFF level, P_ATTRIBUTES still answers). */
  io(kind: typeof P_CLOSE): void;

  // Internal: "_" names are mangled in the bundle; nothing outside this file reads them.
  _relay: OutputPin;
  _clock: Clock;
  _ev: PumpEvents;
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
  /** Per interlock, L_STRIDE entries: input pin, name. */
  _locks: any[];
  /** Interlock bits (see IL_*). */
  _il: number;
  /** When the next interlock poll is due (only with interlocks). */
  _pollMs: number;
  /** F_* bits. */
  _flags: number;
  /** When the current run started. */
  _startMs: number;
  /** While ON: when the run ends. While OFF: when the last run ended (boot counts as one). */
  _stopMs: number;
  /** When the link went down; NONE while it is up. */
  _downMs: number;
  _timer: any;
  /** pumpInput bound to this: the timer's callback (no argument), also used for the internal steps. */
  _cb: (kind?: number, a?: string) => void;
  _reason: string;
  _changes: number;
  _refused: number;
  /** The last refusal's message; absent until the first one (an empty string would cost 2 JsVars). */
  _lastRefused?: string;
}

/**
 * The pump relay and its safety rules (see the file header): `Pump(cfg, relay, interlocks, clock, events)`
 * (or with new). A factory rather than a constructor: main.ts calls it once, the minifier inlines it
 * there, and none of its code stays in memory; everything the pump does afterwards is pumpInput.
 *
 * Boot: writes the relay's OFF level first, then reads the interlocks (the first sample). It reports
 * nothing synchronously: onChange(false, R_BOOT) and then onInterlock(name, active) for each interlock
 * follow from a clock timeout of 0 ms, or before that from the first command or link loss. The link
 * starts down: io(P_LINK_UP) once the MQTT session is up (CONNACK accepted), P_LINK_DOWN when it is lost.
 *
 * @param cfg validated pump config (not kept)
 * @param relay the relay pin; written with the OFF level before anything else
 * @param interlocks one input per cfg.interlocks entry, same order (read() truthy = high)
 * @param clock time and timers (milliseconds)
 * @param events called later, never from inside the factory
 * @throws Error when interlocks.length differs from cfg.interlocks.length (the relay is already OFF)
 */
export var Pump = function (cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents): Pump {
  var off = cfg.activeLow ? 1 : 0;
  relay.write(off);
  var now = clock.now();
  var p = {
    on: false,
    io: pumpInput,
    _relay: relay,
    _clock: clock,
    _ev: events,
    _maxRunSeconds: cfg.maxRunSeconds,
    _minOffSeconds: cfg.minOffSeconds,
    _lostSeconds: cfg.linkLostOffSeconds,
    _locks: [],
    _il: 0,
    _flags: F_BOOT | (off ? F_OFF_HIGH : 0),
    _startMs: now,
    _stopMs: now,
    _downMs: now,
    _reason: R_BOOT,
    _changes: 0,
    _refused: 0
  } as any as Pump;
  var d = cfg.dutyCycle;
  if (d) {
    p._duty = new Float64Array(DUTY_SIZE);
    p._duty[D_WINDOW_MS] = d.windowMinutes * 60000;
    p._duty[D_CAP_MS] = d.maxRunSeconds * 1000;
  }
  var r = cfg.requires;
  if (r) {
    p._sensor = r.sensor;
    p._maxAgeSeconds = r.maxAgeSeconds;
    p._okMs = NONE;
  }
  if (interlocks.length !== cfg.interlocks.length) {
    throw new Error("pump: " + interlocks.length + " interlock pins for " + cfg.interlocks.length + " configured interlocks");
  }
  for (var i = 0; i < interlocks.length; i++) {
    var level = cfg.interlocks[i].activeLevel;
    p._flags |= level << (F_LEVELS + i);
    // The first sample: !read() === !level is "reads the active level" for a boolean or 0/1 read().
    if (!interlocks[i].read() === !level) p._il |= 1 << (IL_BITS + i);
    p._locks.push(interlocks[i], cfg.interlocks[i].name);
  }
  if (interlocks.length) p._pollMs = now + POLL_MS;
  p._cb = pumpInput.bind(p);
  p._cb(RUN_ARM);
  return p;
} as any as { (cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents): Pump; new (cfg: PumpConfig, relay: OutputPin, interlocks: InputPin[], clock: Clock, events: PumpEvents): Pump };

/**
 * Everything the pump does (Pump.io, the timer callback through _cb, and the state machine's step).
 * kind: a public P_* input (see the Pump interface), undefined from the timer, or an internal step:
 * RUN_ON/RUN_OFF (a decided change, reason a), RUN_DUE (handle what is due now), RUN_ARM (only re-arm).
 * The public inputs either answer at once (P_SENSOR_OK, P_ATTRIBUTES, P_CLOSE, a refused command) or turn
 * into one of the internal steps and fall through to the step below. The step, in this order:
 *  1. samples the interlocks when their poll is due (recorded before any event is called);
 *  2. the relay: the change asked for, or an OFF that is due (run end, link lost, stale sensor, or an
 *     interlock read active). This is the only place the relay pin changes state; the timer is re-armed
 *     before onChange is called;
 *  3. the boot report; 4. every interlock whose debounced state differs from what was last reported (all
 *     of them right after the boot report);
 *  5. (finally) the single timer, re-armed for the earliest deadline left.
 * An event handler that throws (a full publish queue) can therefore neither delay an OFF nor lose a
 * deadline, and an interlock report it interrupts is given at the next poll.
 */
function pumpInput(this: Pump, kind?: number, a?: any, b?: any): any {
  var now: number;
  if (kind === undefined) this._timer = undefined; // the timer fired: its id is spent
  if (kind === P_ATTRIBUTES) {
    now = this._clock.now();
    var run = this.on ? Math.floor((now - this._startMs) / 1000) : 0;
    var left = this.on ? Math.ceil((this._stopMs - now) / 1000) : 0;
    return "{\"reason\":" + JSON.stringify(this._reason) + ",\"run_seconds\":" + run + ",\"left_seconds\":" + (left > 0 ? left : 0) +
      ",\"changes\":" + this._changes + ",\"refused\":" + this._refused + ",\"last_refused\":" + JSON.stringify(this._lastRefused || "") + "}";
  }
  if (kind === P_ALL_OFF) {
    if (!this.on) {
      this._relay.write(this._flags & F_OFF_HIGH ? 1 : 0);
      return;
    }
    kind = RUN_OFF;
  }
  if (this._flags & F_CLOSED) return;
  now = this._clock.now();
  var locks = this._locks;
  var k: number;
  var bit: number;
  var ok = this._okMs!;
  if (kind === P_SENSOR_OK) {
    if (a === this._sensor) this._okMs = now;
    return;
  }
  if (kind === P_CLOSE) {
    this._flags |= F_CLOSED;
    this._relay.write(this._flags & F_OFF_HIGH ? 1 : 0);
    this.on = false;
    if (this._timer !== undefined) this._clock.clearTimeout(this._timer);
    this._timer = undefined;
    return;
  }
  if (kind === P_LINK_UP) {
    if (this._downMs === NONE) return;
    this._downMs = NONE;
    kind = RUN_ARM;
  }
  if (kind === P_LINK_DOWN) {
    if (this._downMs !== NONE) return; // repeated: the countdown keeps its start
    this._downMs = a !== undefined && a < now ? a : now;
    kind = RUN_DUE; // with linkLostOffSeconds 0 the deadline is now
  }
  if (kind === P_COMMAND) {
    if (this._flags & F_BOOT) this._cb(RUN_DUE);
    var c = b ? "retained message on " + T_PUMP_SET + " ignored: a stored command never drives the pump" : parseCommand(a);
    var wantOn = typeof c === "number" && c >= 0;
    var msg = typeof c === "string" ? c : "";
    if (wantOn) {
      // The rules in the order of the file header: the first that fails gives the refusal. An interlock
      // blocks while it counts as active or its input reads active right now.
      var il = this._il;
      var active = ((il >> IL_BITS) | (il >> (2 * IL_BITS)) | (il >> (3 * IL_BITS))) & IL_MASK;
      for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
        if (active & bit || !locks[k + L_PIN].read() === !(this._flags & (bit << F_LEVELS))) {
          msg = "ON refused: interlock \"" + locks[k + L_NAME] + "\" is active";
          break;
        }
      }
      var runMs = (c as number) > 0 && (c as number) < this._maxRunSeconds ? (c as number) * 1000 : this._maxRunSeconds * 1000;
      var offLeft = this._stopMs + this._minOffSeconds * 1000 - now;
      // The one call of dutyUsed (so that it is inlined here): a run that ended since the last ON goes into
      // the window now, which is all the window needs before it is measured.
      var duty = this._duty;
      var used = duty ? dutyUsed(duty, now, this._flags & F_UNRECORDED ? this._startMs : NONE, this._stopMs) : 0;
      this._flags &= ~F_UNRECORDED;
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
    if (msg !== "") {
      this._refused++;
      this._lastRefused = msg;
      this._ev.onRefused(msg);
      return;
    }
    kind = wantOn ? RUN_ON : RUN_OFF;
    a = R_COMMAND;
  }

  // The state machine's step (see above).
  try {
    if (kind === RUN_ARM) return; // straight to finally
    var due = kind === undefined || kind === RUN_DUE;
    var on = this.on;
    var why = "";
    /** Interlocks whose input read active in this step's sample (0 when no poll was due). */
    var reading = 0;
    if (due && locks.length && this._pollMs - now < SLACK_MS) {
      for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
        if (!locks[k + L_PIN].read() === !(this._flags & (bit << F_LEVELS))) reading |= bit;
      }
      // The new sample goes in front, the oldest drops out; from now on the next poll is POLL_MS away.
      this._il = (this._il & IL_MASK) | ((this._il << IL_BITS) & IL_OLDER) | (reading << IL_BITS);
      this._pollMs = now + POLL_MS;
    }
    if (kind === RUN_ON || kind === RUN_OFF) {
      on = kind === RUN_ON;
      why = a;
    } else if (due && on) {
      if (this._stopMs - now < SLACK_MS) why = this._flags & F_DUTY_END ? R_DUTY : R_TIMEOUT;
      else if (this._downMs !== NONE && this._downMs + this._lostSeconds * 1000 - now < SLACK_MS) why = R_LINK_LOST;
      else if (this._sensor !== undefined && (ok === NONE || ok + this._maxAgeSeconds! * 1000 - now < SLACK_MS)) why = R_STALE + ":" + this._sensor;
      else {
        // While ON every interlock counts as released (ON is refused otherwise): any input read active stops it.
        for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
          if (reading & bit) {
            why = R_INTERLOCK + ":" + locks[k + L_NAME];
            break;
          }
        }
      }
    }
    if (why !== "") {
      if (kind !== RUN_ON) on = false;
      if (on !== this.on) {
        var off = this._flags & F_OFF_HIGH ? 1 : 0;
        this._relay.write(on ? 1 - off : off);
        if (!on) {
          this._flags |= F_UNRECORDED;
          this._stopMs = now;
        }
        this.on = on;
        this._changes++;
      }
      this._reason = why;
      this._cb(RUN_ARM);
      this._ev.onChange(on, why);
    }
    if (due && this._flags & F_BOOT) {
      this._flags &= ~F_BOOT;
      // Every interlock's state is reported right after this: marked as reported the other way round.
      this._il = (this._il & ~IL_MASK) | (~((this._il >> IL_BITS) | (this._il >> (2 * IL_BITS)) | (this._il >> (3 * IL_BITS))) & IL_MASK);
      // this._reason is still R_BOOT: nothing but a command (which reports the boot first) changes it while OFF.
      this._ev.onChange(false, this._reason);
    }
    if (!(this._flags & F_BOOT)) {
      // Report every interlock whose debounced state is not what was last reported, marking it reported
      // once the call returned: a report whose handler threw is given again at the next poll.
      for (k = 0, bit = 1; k < locks.length; k += L_STRIDE, bit <<= 1) {
        var il2 = this._il;
        var act = ((il2 >> IL_BITS) | (il2 >> (2 * IL_BITS)) | (il2 >> (3 * IL_BITS))) & bit;
        if ((il2 & bit) === act) continue;
        this._ev.onInterlock(locks[k + L_NAME], act !== 0);
        this._il = (this._il & ~bit) | act;
      }
    }
  } finally {
    // Re-arm for the earliest deadline still pending (a past one is handled by the tick that re-arms;
    // the 1 ms floor keeps a bug from becoming a busy loop of 0 ms timers on the device).
    var next = this._flags & F_BOOT ? now : NONE;
    if (this._flags & F_CLOSED) next = NONE; // closed by an event handler
    else {
      if (locks.length && (next === NONE || this._pollMs < next)) next = this._pollMs;
      if (this.on) {
        if (next === NONE || this._stopMs < next) next = this._stopMs;
        if (this._downMs !== NONE && this._downMs + this._lostSeconds * 1000 < next) next = this._downMs + this._lostSeconds * 1000;
        if (this._sensor !== undefined) {
          var t = this._okMs === NONE ? now : this._okMs! + this._maxAgeSeconds! * 1000;
          if (t < next) next = t;
        }
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
