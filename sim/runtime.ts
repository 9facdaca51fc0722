/*
 * One simulated Espruino 2v29 device: a Node `vm` context whose globals behave like Espruino's, running
 * the very bundle that gets flashed (Storage ".bootcde"). Semantics were read from the Espruino sources
 * (src/jswrap_interactive.c, jswrap_io.c, jsinteractive.c, jsi2c.c, libs/network/socketserver.c,
 * network.c, esp8266/jswrap_esp8266_network.c) and checked on the interpreter's Linux build.
 *
 * Model (see sim/README.md for the full list):
 * - One event loop per device, in real time: queued events (pin edges, socket data, Wifi) run first, then
 *   every due timer in id order, as in jsiIdle(). Every callback runs guarded: an exception prints
 *   "Uncaught ..." on the device console and the device goes on.
 * - Timer and watch ids are "last id in the table + 1" (1 when empty), so ids are reused once every
 *   timer is gone, as on Espruino: clearing a stale id can cancel someone else's timer.
 * - Pins: mode, output latch and an external drive (virtual hardware) give the level; digitalRead on a
 *   pin in automatic mode turns it into an input, digitalWrite into an output (jshPinInput/Output).
 * - Reboots: load() and reset() are soft (E 'kill' first, RAM and sockets gone, Wifi stays associated;
 *   reset() runs no code afterwards); power cycles and watchdog resets are hard. Pins float after both.
 * Anything Espruino has that this file does not implement is a stub that throws "... is not implemented
 * in the simulator", so a bundle never silently gets a wrong answer.
 */
import vm from "node:vm";
import net from "node:net";
import tls from "node:tls";
import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { BoardInfo } from "../boards/types";
import type { I2CDevice, DHT22Device } from "./hw/types";
import { dht22Edges } from "./hw/dht22";
import { StorageDir } from "./storage";
import { hoistingFindings } from "../tools/guard";
import { MISSING_GLOBALS, MISSING_MEMBERS } from "./espruino-builtins";

export type RebootKind = "power" | "load" | "reset" | "watchdog" | "reboot";

export interface RuntimeOptions {
  id: string;
  board: BoardInfo;
  storage: StorageDir;
  log?: (line: string) => void;
  trace?: boolean;
  /** The access point the virtual Wifi offers; default: any ssid/password is accepted. */
  ap?: { ssid?: string; password?: string };
  /** Called after every boot (the bundle's first run returned). */
  onBoot?: (kind: RebootKind) => void;
}

interface TimerEntry {
  id: number;
  due: number; // performance.now() ms
  intr: number; // 0 for a timeout
  fn: any;
  args: any[];
  watch?: WatchEntry;
  state?: boolean;
}

interface WatchEntry {
  id: number;
  pin: number;
  recur: boolean;
  edge: number;
  debounce: number; // ms
  cb: any;
  state: boolean;
  lastTime: number | undefined;
  timeout: TimerEntry | null;
}

export interface PinState {
  mode: string; // "" = never set (input)
  manual: boolean;
  latch: number;
  ext: number; // -1 = nothing drives it from outside
  /** External resistor on the board: 1 pull-up (e.g. a DHT22 module's), 0 pull-down, -1 none. */
  pull: number;
  level: number;
}

interface SockState {
  obj: any;
  node: net.Socket | null;
  connected: boolean;
  closed: boolean;
  ending: boolean;
  blackholed: boolean;
  pending: Buffer[];
  rx: string;
  error: number;
  host: string;
  port: number;
}

interface BusState {
  sda: number;
  scl: number;
  hardware: boolean;
}

const VERSION = "2v29";
const NOT_IMPLEMENTED = " is not implemented in the simulator (sim/runtime.ts); add it there before relying on it";
const SOCKET_ERRORS: Record<number, string> = { [-1]: "connection closed", [-2]: "out of memory", [-3]: "timeout", [-4]: "no route", [-8]: "unsent data", [-9]: "connection reset", [-10]: "unknown error", [-13]: "SSL handshake failed" };

/* Runs inside each new context before anything else (ES5): removes what Espruino lacks, adds what every
 * Espruino object has (on/emit/removeListener/removeAllListeners on Object.prototype) and the classes the
 * host fills in. */
const SETUP = `(function (host, missingGlobals, missingMembers) {
  var g = this;
  var EV = "\\u00ff\\u00ffev";
  function hide(o, k, v) { Object.defineProperty(o, k, { value: v, enumerable: false, writable: true, configurable: true }); }
  function evs(o, create) {
    if (!Object.prototype.hasOwnProperty.call(o, EV)) { if (!create) return null; hide(o, EV, {}); }
    return o[EV];
  }
  hide(Object.prototype, "on", function (name, fn) { var e = evs(this, true); (e[name] || (e[name] = [])).push(fn); });
  hide(Object.prototype, "addListener", Object.prototype.on);
  hide(Object.prototype, "prependListener", function (name, fn) { var e = evs(this, true); (e[name] || (e[name] = [])).unshift(fn); });
  hide(Object.prototype, "emit", function (name) {
    var e = evs(this, false); if (!e || !e[name]) return;
    var args = Array.prototype.slice.call(arguments, 1); var l = e[name].slice();
    for (var i = 0; i < l.length; i++) host.call(l[i], this, args);
  });
  hide(Object.prototype, "removeListener", function (name, fn) {
    var e = evs(this, false); if (!e || !e[name]) return;
    var i = e[name].indexOf(fn); if (i >= 0) e[name].splice(i, 1);
    if (!e[name].length) delete e[name];
  });
  hide(Object.prototype, "removeAllListeners", function (name) {
    var e = evs(this, false); if (!e) return;
    if (name === undefined) { for (var k in e) delete e[k]; } else delete e[name];
  });
  function InternalError(message) { this.message = message === undefined ? "" : String(message); }
  InternalError.prototype.toString = function () { return "InternalError: " + this.message; };
  g.InternalError = InternalError;
  function I2C() {}
  I2C.prototype.setup = function (o) { return host.i2cSetup(this, o); };
  I2C.prototype.writeTo = function () { return host.i2cWrite(this, Array.prototype.slice.call(arguments)); };
  I2C.prototype.readFrom = function (a, n) { return host.i2cRead(this, a, n); };
  g.I2C = I2C;
  function Socket() {}
  Socket.prototype.write = function (d) { return host.sockWrite(this, d); };
  Socket.prototype.end = function (d) { return host.sockEnd(this, d); };
  Socket.prototype.available = function () { return host.sockAvailable(this); };
  Socket.prototype.read = function (n) { return host.sockRead(this, n); };
  g.Socket = Socket;
  function Pin(n) {
    var p = host.pin(n);
    if (!(this instanceof Pin)) return p;
    hide(this, "_n", p);
  }
  Pin.prototype.valueOf = function () { return this._n; };
  Pin.prototype.toString = function () { return "D" + this._n; };
  Pin.prototype.read = function () { return digitalRead(this._n); };
  Pin.prototype.write = function (v) { digitalWrite(this._n, v); };
  Pin.prototype.set = function () { digitalWrite(this._n, 1); };
  Pin.prototype.reset = function () { digitalWrite(this._n, 0); };
  Pin.prototype.toggle = function () { var v = digitalRead(this._n) ? 0 : 1; digitalWrite(this._n, v); return !!v; };
  Pin.prototype.mode = function (m) { pinMode(this._n, m); };
  Pin.prototype.getMode = function () { return getPinMode(this._n); };
  g.Pin = Pin;
  g.global = g;
  for (var i = 0; i < missingGlobals.length; i++) delete g[missingGlobals[i]];
  for (var j = 0; j < missingMembers.length; j++) {
    var parts = missingMembers[j].split(".");
    var o = host.builtins[parts[0]];
    if (!o) continue;
    if (parts.length === 3) o = o.prototype;
    var k = parts[parts.length - 1];
    delete o[k];
    var up = Object.getPrototypeOf(o);
    if (up && up !== Object.prototype && up !== Function.prototype && Object.prototype.hasOwnProperty.call(up, k)) delete up[k];
  }
  return {
    listeners: function (o, name) { var e = evs(o, false); return e && e[name] ? e[name].slice() : []; },
    mk: function () { return {}; },
    arr: function () { return []; },
    evKey: EV
  };
})`;

/** True when something listens on host:port right now (Linux /proc), null when we cannot tell. */
function loopbackListening(host: string, port: number): boolean | null {
  if (host !== "127.0.0.1" && host !== "localhost") return null;
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      let text: string;
      try {
        text = readFileSync(f, "latin1");
      } catch {
        continue;
      }
      const lines = text.split("\n");
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].trim().split(/\s+/);
        if (c.length < 4 || c[3] !== "0A") continue; // LISTEN
        const [addr, p] = c[1].split(":");
        if (p !== hex) continue;
        if (/^0+$/.test(addr) || addr === "0100007F" || addr.endsWith("0100007F") || addr === "00000000000000000000000000000001" || addr === "00000000000000000000000001000000") return true;
      }
    }
    return false;
  } catch {
    return null;
  }
}

/* hoistingFindings of the last code booted: a fleet boots one bundle many times, parsed once. */
let lastChecked: { code: string; findings: ReturnType<typeof hoistingFindings> } | null = null;
function lateVarsOf(code: string): ReturnType<typeof hoistingFindings> {
  if (!lastChecked || lastChecked.code !== code) lastChecked = { code, findings: hoistingFindings(code) };
  return lastChecked.findings;
}

export class Runtime {
  readonly id: string;
  readonly board: BoardInfo;
  readonly storage: StorageDir;
  /** Every line the device printed (console.log, print, Uncaught errors). */
  readonly console: string[] = [];
  readonly pins: PinState[] = [];
  boots = 0;
  alive = false;
  /** Wifi (survives soft resets): associated with an address. */
  wifiUp = false;
  wifiDownUntil = 0;
  watchdog: { timeoutMs: number; auto: boolean; lastKick: number } | null = null;
  private opts: RuntimeOptions;
  private gen = 0;
  private ctx: any = null;
  private sandbox: any = null;
  private ctxApi: any = null;
  private builtinNames: Set<string> = new Set();
  private timers: TimerEntry[] = [];
  private watches: WatchEntry[] = [];
  private events: Array<() => void> = [];
  private handle: NodeJS.Timeout | null = null;
  private handleDue = Infinity;
  private immediate: NodeJS.Immediate | null = null;
  private sockets = new Set<SockState>();
  private sockOf = new WeakMap<object, SockState>();
  private zombies = new Set<net.Socket>();
  private busOf = new WeakMap<object, BusState>();
  private i2cDevs: Array<{ dev: I2CDevice; sda: number; scl: number }> = [];
  private dhts: DHT22Device[] = [];
  private dhtLowAt = new Map<number, number>();
  private pulses = new Set<NodeJS.Timeout>();
  private hostTimers = new Set<NodeJS.Timeout>();
  private timeOffset = 0; // seconds added to performance.now()/1000 for getTime()
  private wifiMod: any = null;
  private wifiConnecting: NodeJS.Timeout | null = null;
  private wdHandle: NodeJS.Timeout | null = null;
  /** Pin level change listeners for the virtual hardware (relay, api). */
  pinListeners: Array<(pin: number, level: number) => void> = [];

  constructor(opts: RuntimeOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.board = opts.board;
    this.storage = opts.storage;
    const n = this.pinCount();
    for (let i = 0; i < n; i++) this.pins.push({ mode: "", manual: false, latch: 0, ext: -1, pull: -1, level: 0 });
  }

  pinCount(): number {
    return this.board.espruino === "ESP32" ? 40 : this.board.espruino === "LINUX" ? 33 : 18;
  }

  // ------------------------------------------------------------------ virtual hardware attachment

  attachI2C(dev: I2CDevice, sda: number, scl: number): void {
    this.i2cDevs.push({ dev, sda, scl });
  }

  attachDHT(dev: DHT22Device): void {
    this.dhts.push(dev);
    // The DHT22 data line idles high through the module's pull-up (AM2302 section 7.1).
    this.pins[dev.pin].ext = -1;
    this.pins[dev.pin].pull = 1;
    this.update(dev.pin, performance.now());
  }

  /** Drive a pin from outside (a switch, a sensor); -1 lets it go (pull resistor or floating). */
  drive(pin: number, level: number): void {
    const p = this.pins[pin];
    if (!p) throw new Error("sim: no pin " + pin + " on " + this.board.name);
    p.ext = level < 0 ? -1 : level ? 1 : 0;
    this.update(pin, performance.now());
  }

  /** Whether the bundle drives this pin as an output now. */
  driven(pin: number): boolean {
    const m = this.pins[pin].mode;
    return m === "output" || m === "af_output" || ((m === "opendrain" || m === "opendrain_pullup") && this.pins[pin].latch === 0);
  }

  // ------------------------------------------------------------------ life cycle

  /** Power on (or again after a power cut): hard boot, Storage ".bootcde" runs. */
  powerOn(): void {
    this.boot("power");
  }

  /** Power cut: everything stops at once, sockets are reset (the broker sees them drop). */
  powerOff(): void {
    this.teardown(true);
    this.wifiUp = false;
    this.watchdog = null;
    this.alive = false;
  }

  /** E.emit('kill') as before load()/reset(), guarded. */
  emitKill(): void {
    if (this.ctx) this.emitOn(this.ctx.E, "kill", []);
  }

  boot(kind: RebootKind): void {
    const hard = kind === "power" || kind === "watchdog" || kind === "reboot";
    if (this.alive && !hard) this.emitKill();
    this.teardown(hard);
    if (hard) {
      this.wifiUp = false;
      this.watchdog = null;
      if (this.board.espruino !== "LINUX") this.timeOffset = -performance.now() / 1000;
    }
    if (this.board.espruino === "LINUX" && this.boots === 0) this.timeOffset = Date.now() / 1000 - performance.now() / 1000;
    this.boots++;
    this.alive = true;
    this.gen++;
    this.makeContext();
    this.startWatchdogTimer();
    if (kind !== "reset") {
      const code = this.storage.read(".bootcde");
      // Node hoists var and Espruino does not: code that depends on it would pass here and fail there.
      const late = code === undefined ? [] : lateVarsOf(code);
      if (late.length) {
        this.print("Uncaught Error: .bootcde:" + late[0].line + ":" + late[0].column + ": " + late[0].message + " (sim: refused, as tools/guard.ts does)");
      } else if (code !== undefined) {
        try {
          vm.runInContext(code, this.sandbox, { filename: ".bootcde" });
        } catch (e) {
          this.uncaught(e);
        }
        // 'init' runs right after the saved code (jsiSemiInit), then onInit() if defined.
        this.emitOn(this.ctx.E, "init", []);
        if (typeof this.ctx.onInit === "function") this.call(this.ctx.onInit, this.ctx, []);
      }
    }
    this.schedule();
    if (this.opts.onBoot) this.opts.onBoot(kind);
  }

  private teardown(hard: boolean): void {
    this.gen++;
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
    this.handleDue = Infinity;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    for (const t of this.pulses) clearTimeout(t);
    this.pulses.clear();
    for (const t of this.hostTimers) clearTimeout(t);
    this.hostTimers.clear();
    if (this.wifiConnecting) clearTimeout(this.wifiConnecting);
    this.wifiConnecting = null;
    this.timers = [];
    this.watches = [];
    this.events = [];
    for (const s of this.sockets) {
      s.closed = true;
      if (s.node) {
        if (s.blackholed) this.zombies.add(s.node);
        else if (hard) {
          // A TLS socket's handle cannot send a TCP RST (Node throws): close it as abruptly as it allows.
          try {
            s.node.resetAndDestroy();
          } catch (e) {
            s.node.destroy();
          }
        } else s.node.end();
      }
    }
    this.sockets.clear();
    if (hard) {
      for (const z of this.zombies) z.destroy();
      this.zombies.clear();
    }
    // jshReset(): every pin back to its power-on state (input, floating).
    for (let i = 0; i < this.pins.length; i++) {
      const p = this.pins[i];
      p.mode = "";
      p.manual = false;
      p.latch = 0;
    }
    const now = performance.now();
    for (let i = 0; i < this.pins.length; i++) this.update(i, now);
    this.dhtLowAt.clear();
    if (this.wdHandle) clearInterval(this.wdHandle);
    this.wdHandle = null;
    this.ctx = null;
    this.sandbox = null;
    this.wifiMod = null;
  }

  /** Stop for good (power cut unless the caller did a graceful shutdown first). */
  destroy(): void {
    this.powerOff();
    for (const z of this.zombies) z.destroy();
    this.zombies.clear();
  }

  // ------------------------------------------------------------------ the event loop

  /** Device time in seconds (getTime()). */
  time(ms?: number): number {
    return (ms === undefined ? performance.now() : ms) / 1000 + this.timeOffset;
  }

  private queue(fn: () => void): void {
    const gen = this.gen;
    this.events.push(() => {
      if (gen === this.gen) fn();
    });
    this.schedule();
  }

  private schedule(): void {
    if (!this.alive) return;
    if (this.events.length) {
      if (!this.immediate) this.immediate = setImmediate(() => this.idle());
      return;
    }
    let due = Infinity;
    for (const t of this.timers) if (t.due < due) due = t.due;
    if (due === Infinity) {
      if (this.handle) clearTimeout(this.handle);
      this.handle = null;
      this.handleDue = Infinity;
      return;
    }
    if (this.handle && this.handleDue <= due) return;
    if (this.handle) clearTimeout(this.handle);
    this.handleDue = due;
    this.handle = setTimeout(() => {
      this.handle = null;
      this.handleDue = Infinity;
      this.idle();
    }, Math.max(0, due - performance.now()));
  }

  private idle(): void {
    this.immediate = null;
    const gen = this.gen;
    let n = this.events.length;
    while (n-- > 0 && this.events.length && gen === this.gen) this.events.shift()!();
    if (gen !== this.gen) return;
    const now = performance.now();
    const due = this.timers.filter((t) => t.due <= now);
    for (const t of due) {
      if (gen !== this.gen) return;
      if (this.timers.indexOf(t) < 0) continue;
      this.fireTimer(t);
    }
    if (this.watchdog && this.watchdog.auto) this.watchdog.lastKick = performance.now();
    this.schedule();
  }

  private fireTimer(t: TimerEntry): void {
    let exec = true;
    let data: any = null;
    const w = t.watch;
    if (w) {
      const watchState = w.state;
      w.state = !!t.state;
      exec = false;
      if (watchState !== w.state) {
        const time = this.time(t.due - w.debounce);
        if (this.shouldExec(w, w.state)) {
          exec = true;
          data = this.mk({ state: w.state, lastTime: w.lastTime, time: time, pin: w.pin });
        }
        w.lastTime = time;
      }
      w.timeout = null;
      if (exec && !w.recur) this.removeWatch(w);
    }
    if (t.intr > 0) {
      t.due += t.intr;
      if (t.due < performance.now() - 1000) t.due = performance.now() + t.intr;
    } else this.removeTimer(t);
    if (exec) {
      if (data) this.call(t.fn, this.ctx, [data]);
      else if (typeof t.fn === "string") this.evalString(t.fn);
      else this.call(t.fn, this.ctx, t.args);
    }
  }

  private removeTimer(t: TimerEntry): void {
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
  }

  private removeWatch(w: WatchEntry): void {
    const i = this.watches.indexOf(w);
    if (i >= 0) this.watches.splice(i, 1);
  }

  private nextTimerId(): number {
    return this.timers.length ? this.timers[this.timers.length - 1].id + 1 : 1;
  }

  private evalString(code: string): void {
    try {
      vm.runInContext(code, this.sandbox);
    } catch (e) {
      this.uncaught(e);
    }
  }

  /** Run a bundle callback the way jsiExecuteEventCallback does: errors are printed, not thrown. */
  call(fn: any, thisArg: any, args: any[]): void {
    if (typeof fn !== "function") return;
    try {
      fn.apply(thisArg, args);
    } catch (e) {
      this.uncaught(e);
    }
  }

  private emitOn(obj: any, name: string, args: any[]): void {
    if (!obj || !this.ctxApi) return;
    for (const l of this.ctxApi.listeners(obj, name)) this.call(l, obj, args);
  }

  private uncaught(e: any): void {
    if (this.ctx && this.ctxApi && this.ctxApi.listeners(this.ctx.process, "uncaughtException").length) {
      this.emitOn(this.ctx.process, "uncaughtException", [e]);
      return;
    }
    this.print("Uncaught " + this.errText(e));
    if (this.opts.trace && e && e.stack) this.print(String(e.stack).split("\n").slice(1, 4).join("\n"));
  }

  errText(e: any): string {
    try {
      if (e && typeof e === "object") return String(e);
      return JSON.stringify(e) ?? String(e);
    } catch {
      return "(unprintable error)";
    }
  }

  print(line: string): void {
    this.console.push(line);
    if (this.console.length > 5000) this.console.splice(0, 1000);
    if (this.opts.log) this.opts.log(line);
  }

  private format(v: any): string {
    if (typeof v === "string") return v;
    if (typeof v === "function") return "function () { ... }";
    if (v && typeof v === "object") {
      if (typeof v.message === "string" && typeof v.toString === "function" && (v instanceof this.ctx.Error || v instanceof this.ctx.InternalError)) return String(v);
      try {
        return JSON.stringify(v) ?? String(v);
      } catch {
        return String(v);
      }
    }
    return String(v);
  }

  // ------------------------------------------------------------------ errors thrown into the bundle

  private err(msg: string): Error {
    return new this.ctx.Error(msg);
  }

  private internalErr(msg: string): any {
    return new this.ctx.InternalError(msg);
  }

  private typeErr(msg: string): Error {
    return new this.ctx.TypeError(msg);
  }

  private stub(name: string): () => never {
    const self = this;
    return function () {
      throw self.err(name + NOT_IMPLEMENTED);
    };
  }

  /** An object of the device's realm (so it has on/emit and the context's prototypes). */
  mk(props: Record<string, any>): any {
    const o = this.ctxApi.mk();
    for (const k in props) if (props[k] !== undefined || k === "lastTime") o[k] = props[k];
    if (o.lastTime === undefined) delete o.lastTime;
    return o;
  }

  private bytesToCtx(b: Uint8Array): Uint8Array {
    const out = new this.ctx.Uint8Array(b.length);
    out.set(b);
    return out;
  }

  // ------------------------------------------------------------------ the context

  private makeContext(): void {
    const sandbox: any = vm.createContext({}, { name: "espruino " + this.id, codeGeneration: { strings: true, wasm: false } });
    this.sandbox = sandbox;
    const ctx: any = vm.runInContext("this", sandbox);
    this.ctx = ctx;
    const self = this;
    const builtins: any = {};
    for (const n of ["Object", "Array", "String", "Number", "Math", "Promise", "Date", "RegExp", "Error", "ArrayBuffer", "DataView", "Uint8Array"]) builtins[n] = vm.runInContext(n, sandbox);
    const host = {
      builtins,
      call: (fn: any, thisArg: any, args: any[]) => self.call(fn, thisArg, args),
      pin: (p: any) => self.toPin(p),
      i2cSetup: (bus: any, o: any) => self.i2cSetup(bus, o, false),
      i2cWrite: (bus: any, args: any[]) => self.i2cWrite(bus, args),
      i2cRead: (bus: any, a: any, n: any) => self.i2cRead(bus, a, n),
      sockWrite: (s: any, d: any) => self.sockWrite(s, d),
      sockEnd: (s: any, d: any) => self.sockEnd(s, d),
      sockAvailable: (s: any) => (self.sockOf.get(s)?.rx.length ?? 0),
      sockRead: (s: any, n: any) => {
        const st = self.sockOf.get(s);
        if (!st) return undefined;
        const k = n === undefined ? st.rx.length : Number(n);
        const out = st.rx.substr(0, k);
        st.rx = st.rx.substr(k);
        return out;
      }
    };
    this.ctxApi = vm.runInContext(SETUP, sandbox, { filename: "sim-setup" }).call(undefined, host, MISSING_GLOBALS, MISSING_MEMBERS);
    this.installGlobals(ctx);
    this.builtinNames = new Set(Object.getOwnPropertyNames(ctx));
  }

  private installGlobals(g: any): void {
    const self = this;
    const b = this.board;
    const isEsp = b.espruino !== "LINUX";
    // Pins: numbers on Espruino (typeof D5 === "number", D5 === 5).
    for (let i = 0; i < this.pinCount(); i++) g["D" + i] = i;
    if (b.espruino === "ESP8266_4MB") g.A0 = 17;
    g.HIGH = 1;
    g.LOW = 0;

    g.print = function () {
      self.print(Array.prototype.map.call(arguments, (a: any) => self.format(a)).join(" "));
    };
    g.console = this.mk({ log: g.print, info: g.print, warn: g.print, error: g.print, debug: g.print, trace: g.print });

    // Timers (jswrap_interactive.c)
    const setTimer = (fn: any, ms: any, args: any[], interval: boolean) => {
      if (typeof fn !== "function" && typeof fn !== "string") throw self.err("Function or String not supplied!");
      let t = Number(ms);
      if (!(t >= 0.1)) t = 0.1;
      if (t > 3153600000000) throw self.err("Interval is too long (>100 years)");
      const e: TimerEntry = { id: self.nextTimerId(), due: performance.now() + t, intr: interval ? t : 0, fn, args };
      self.timers.push(e);
      self.schedule();
      return e.id;
    };
    g.setTimeout = function (fn: any, ms: any) {
      return setTimer(fn, ms, Array.prototype.slice.call(arguments, 2), false);
    };
    g.setInterval = function (fn: any, ms: any) {
      return setTimer(fn, ms, Array.prototype.slice.call(arguments, 2), true);
    };
    const clearTimer = (name: string, args: IArguments) => {
      if (args.length === 0) {
        // Everything except the debounce timers of watches.
        self.timers = self.timers.filter((t) => t.watch);
        return;
      }
      const id = args[0];
      if (id === undefined) throw self.err("clear" + name + "(undefined) not allowed. Use clear" + name + "() instead");
      if (id === null || typeof id === "object" || typeof id === "function") return;
      const t = self.timers.find((x) => String(x.id) === String(id));
      if (t) self.removeTimer(t);
    };
    g.clearTimeout = function () {
      clearTimer("Timeout", arguments);
    };
    g.clearInterval = function () {
      clearTimer("Interval", arguments);
    };
    g.changeInterval = function (id: any, ms: any) {
      let t = Number(ms);
      if (!(t >= 0.1)) t = 0.1;
      const e = self.timers.find((x) => String(x.id) === String(id));
      if (!e) throw self.err("Unknown Interval");
      e.intr = t;
      e.due = performance.now() + t;
      self.schedule();
    };
    g.getTime = () => self.time();
    g.setTime = (s: any) => {
      self.timeOffset = Number(s) - performance.now() / 1000;
    };

    // Pins (jswrap_io.c, jspin.c)
    g.pinMode = function (pin: any, mode: any, automatic: any) {
      const p = self.toPin(pin);
      const modes = ["analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "opendrain_pullup", "af_output", "af_opendrain"];
      if (typeof mode === "string" && modes.indexOf(mode) >= 0) {
        self.pins[p].manual = !automatic;
        self.setMode(p, mode);
      } else {
        self.pins[p].manual = false;
        if (mode !== undefined && mode !== "auto") throw self.err("Unknown pin mode");
      }
    };
    g.getPinMode = function (pin: any) {
      const p = self.toPin(pin);
      return self.pins[p].mode || "input";
    };
    g.digitalWrite = function (pin: any, value: any) {
      if (Array.isArray(pin)) {
        for (let i = 0; i < pin.length; i++) self.pinOut(self.toPin(pin[i]), (Number(value) >> (pin.length - 1 - i)) & 1);
        return;
      }
      self.pinOut(self.toPin(pin), value ? 1 : 0);
    };
    g.digitalRead = function (pin: any) {
      if (Array.isArray(pin)) {
        let v = 0;
        for (let i = 0; i < pin.length; i++) v = (v << 1) | self.pinIn(self.toPin(pin[i]));
        return v;
      }
      return self.pinIn(self.toPin(pin));
    };
    g.digitalPulse = function (pin: any, value: any, time: any) {
      const p = self.toPin(pin);
      const times: number[] = typeof time === "number" ? [time] : Array.prototype.slice.call(time || []);
      let v = value ? 1 : 0;
      let at = 0;
      self.pinOut(p, v);
      for (let i = 0; i < times.length; i++) {
        at += Math.max(0, Number(times[i]));
        const level = i % 2 === 0 ? 1 - v : v;
        const h = setTimeout(() => {
          self.pulses.delete(h);
          self.pinOut(p, level);
        }, at);
        self.pulses.add(h);
      }
    };
    g.setWatch = function (fn: any, pin: any, opts: any) {
      const p = self.toPin(pin);
      let repeat = false;
      let debounce = 0;
      let edge = 0;
      if (opts && typeof opts === "object") {
        repeat = !!opts.repeat;
        debounce = Number(opts.debounce) || 0;
        if (debounce < 0) debounce = 0;
        const e = opts.edge;
        if (e === undefined) edge = 0;
        else if (typeof e === "number") edge = e > 0 ? 1 : e < 0 ? -1 : 0;
        else if (e === "rising") edge = 1;
        else if (e === "falling") edge = -1;
        else if (e === "both") edge = 0;
        else throw self.typeErr("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
        if (opts.irq) throw self.err("irq=true set, but function is not a native function");
        if (opts.data !== undefined) throw self.err("setWatch data pin" + NOT_IMPLEMENTED);
      } else repeat = !!opts;
      if (typeof fn !== "function" && typeof fn !== "string") throw self.err("Function or String not supplied!");
      const id = self.watches.length ? self.watches[self.watches.length - 1].id + 1 : 1;
      self.watches.push({ id, pin: p, recur: repeat, edge, debounce, cb: fn, state: !!self.pins[p].level, lastTime: undefined, timeout: null });
      return id;
    };
    g.clearWatch = function () {
      if (arguments.length === 0) {
        self.watches = [];
        return;
      }
      const id = arguments[0];
      if (id === undefined) throw self.err("clearWatch(undefined) not allowed. Use clearWatch() instead");
      const w = self.watches.find((x) => String(x.id) === String(id));
      if (!w) throw self.err("Unknown Watch " + self.format(id));
      if (w.timeout) self.removeTimer(w.timeout);
      self.removeWatch(w);
    };

    // I2C: I2C1 is the hardware peripheral on ESP8266/ESP32, new I2C() is software (jsi2c.c).
    g.I2C1 = new g.I2C();
    this.busOf.set(g.I2C1, { sda: -1, scl: -1, hardware: b.espruino !== "LINUX" });
    g.I2C1.setup = function (o: any) {
      return self.i2cSetup(this, o, true);
    };

    g.btoa = function (s: any) {
      const str = String(s);
      for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) > 255) throw self.err("btoa: character above 0xFF at " + i + " (Espruino strings are bytes)");
      return Buffer.from(str, "latin1").toString("base64");
    };
    g.atob = function (s: any) {
      return Buffer.from(String(s), "base64").toString("latin1");
    };
    g.getSerial = () => (isEsp ? crypto.createHash("sha1").update(self.id).digest("hex").substr(0, 12) : "00000000-addeadde-addeadde");
    g.load = function (name: any) {
      if (name !== undefined) throw self.err("load(filename)" + NOT_IMPLEMENTED);
      self.deferReboot("load");
    };
    g.reset = function (clearFlash: any) {
      if (clearFlash) self.storage.erase(".bootcde");
      self.deferReboot("reset");
    };

    g.E = this.makeE();
    g.process = this.mk({
      env: this.mk({ VERSION: VERSION, BOARD: b.espruino, GIT_COMMIT: "sim", CONSOLE: "Telnet", MODULES: "" }),
      version: VERSION,
      memory: function () {
        return self.memoryObj();
      }
    });
    g.require = function (name: any) {
      return self.requireModule(String(name));
    };

    for (const n of ["analogRead", "analogWrite", "shiftOut", "save", "dump", "edit", "echo", "trace", "peek8", "peek16", "peek32", "poke8", "poke16", "poke32", "setDeepSleep", "setSleepIndicator", "setBusyIndicator", "quit", "OneWire", "Waveform", "SPI", "Serial"]) g[n] = this.stub(n + "()");
    for (const n of ["SPI1", "Serial1", "Serial2", "LoopbackA", "LoopbackB", "Telnet"]) {
      const o = this.mk({});
      for (const m of ["setup", "write", "read", "print", "println", "send", "available", "setConsole", "pipe"]) o[m] = this.stub(n + "." + m + "()");
      g[n] = o;
    }
    // url.parse is used with net.connect("host:port") strings.
    g.url = this.mk({ parse: this.stub("url.parse()") });
  }

  private makeE(): any {
    const self = this;
    const E = this.mk({});
    E.enableWatchdog = function (timeout: any, isAuto: any) {
      const t = Number(timeout);
      if (!(t > 0)) throw self.err("Invalid timeout");
      // Only the ESP32 build has a working watchdog; on ESP8266 and Linux jshEnableWatchDog is empty.
      if (self.board.espruino !== "ESP32") return;
      self.watchdog = { timeoutMs: t * 1000, auto: isAuto === undefined ? true : !!isAuto, lastKick: performance.now() };
      self.startWatchdogTimer();
    };
    E.kickWatchdog = function () {
      if (self.watchdog) self.watchdog.lastKick = performance.now();
    };
    E.getSizeOf = (v: any) => this.sizeOf(v, new Set());
    E.toString = function () {
      const bytes = self.flatten(Array.prototype.slice.call(arguments));
      return Buffer.from(bytes).toString("latin1");
    };
    E.toUint8Array = function () {
      return self.bytesToCtx(Uint8Array.from(self.flatten(Array.prototype.slice.call(arguments))));
    };
    E.toArrayBuffer = function (s: any) {
      return self.bytesToCtx(Buffer.from(String(s), "latin1")).buffer;
    };
    E.CRC32 = function (d: any) {
      const bytes = self.flatten([d]);
      let crc = 0xffffffff;
      for (const x of bytes) {
        crc ^= x;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
      }
      return (crc ^ 0xffffffff) >>> 0;
    };
    E.reboot = function () {
      self.deferReboot("reboot");
    };
    E.getErrorFlags = () => this.ctxApi.arr();
    for (const n of ["getTemperature", "getAnalogVRef", "setClock", "hwRand", "srand", "setTimeZone", "dumpStr", "setFlags", "getFlags", "setBootCode", "showMessage", "lockConsole", "setPassword", "FFT", "interpolate", "sum", "variance", "convolve", "memoryArea", "nativeCall", "compiledC", "asm", "getAddressOf", "kickWatchdogPin", "defrag", "dumpFreeList", "dumpVariables", "dumpLockedVars", "dumpTimers", "toJS", "HSBtoRGB", "decodeUTF8", "mapInPlace", "reverseByte", "getPowerUsage", "stopEventPropagation", "openFile", "pipe", "unmountSD", "connectSDCard"]) E[n] = this.stub("E." + n + "()");
    return E;
  }

  private deferReboot(kind: RebootKind): void {
    const gen = this.gen;
    const h = setImmediate(() => {
      if (gen === this.gen && this.alive) this.boot(kind);
    });
    void h;
  }

  private startWatchdogTimer(): void {
    if (this.wdHandle) clearInterval(this.wdHandle);
    this.wdHandle = null;
    if (!this.watchdog) return;
    this.wdHandle = setInterval(() => {
      const w = this.watchdog;
      if (!w || !this.alive) return;
      if (performance.now() - w.lastKick > w.timeoutMs) {
        this.print("sim: watchdog reset (not kicked for " + (w.timeoutMs / 1000) + " s)");
        this.boot("watchdog");
      }
    }, 100);
  }

  // ------------------------------------------------------------------ pins

  toPin(pin: any): number {
    let n: number;
    if (typeof pin === "number") n = pin;
    else if (typeof pin === "string") {
      const m = /^D(\d+)$/.exec(pin);
      n = m ? parseInt(m[1], 10) : pin === "A0" && this.board.espruino === "ESP8266_4MB" ? 17 : -1;
    } else if (pin && typeof pin === "object" && typeof pin.valueOf === "function") n = Number(pin.valueOf());
    else n = -1;
    if (!(n >= 0 && n < this.pins.length && Math.floor(n) === n)) throw this.err("Invalid pin");
    return n;
  }

  private setMode(p: number, mode: string): void {
    this.pins[p].mode = mode;
    this.update(p, performance.now());
  }

  private pinOut(p: number, v: number): void {
    const s = this.pins[p];
    s.latch = v;
    if (!s.manual) s.mode = "output";
    this.update(p, performance.now());
  }

  private pinIn(p: number): number {
    const s = this.pins[p];
    if (!s.manual && s.mode !== "input") {
      s.mode = "input";
      this.update(p, performance.now());
    }
    return s.level;
  }

  private levelOf(s: PinState): number {
    switch (s.mode) {
      case "output":
      case "af_output":
        return s.latch;
      case "opendrain":
      case "af_opendrain":
        return s.latch ? (s.ext >= 0 ? s.ext : s.pull >= 0 ? s.pull : 0) : 0;
      case "opendrain_pullup":
        return s.latch ? (s.ext >= 0 ? s.ext : 1) : 0;
      case "input_pullup":
        return s.ext >= 0 ? s.ext : 1;
      case "input_pulldown":
        return s.ext >= 0 ? s.ext : s.pull === 1 ? 1 : 0;
      default:
        // input, analog, never set: floating reads 0 (measured on the Linux build) unless the board pulls it.
        return s.ext >= 0 ? s.ext : s.pull >= 0 ? s.pull : 0;
    }
  }

  /** Recompute a pin's level; on a change, queue the edge for watches (with its time) and hardware. */
  private update(p: number, atMs: number): void {
    const s = this.pins[p];
    const level = this.levelOf(s);
    if (level === s.level) return;
    s.level = level;
    for (const l of this.pinListeners) l(p, level);
    this.dhtCheck(p, level, atMs);
    if (this.watches.some((w) => w.pin === p)) this.queue(() => this.watchEvent(p, level === 1, atMs));
  }

  private watchEvent(pin: number, high: boolean, atMs: number): void {
    for (const w of this.watches.slice()) {
      if (w.pin !== pin || this.watches.indexOf(w) < 0) continue;
      let executeNow = false;
      if (w.debounce <= 0) {
        executeNow = true;
        w.state = high;
      } else if (w.timeout) {
        w.timeout.due = atMs + w.debounce;
        w.timeout.state = high;
        this.schedule();
      } else if (high !== w.state) {
        const t: TimerEntry = { id: this.nextTimerId(), due: atMs + w.debounce, intr: 0, fn: w.cb, args: [], watch: w, state: high };
        this.timers.push(t);
        w.timeout = t;
        this.schedule();
      }
      if (executeNow) {
        const time = this.time(atMs);
        if (this.shouldExec(w, high)) {
          const data = this.mk({ state: high, lastTime: w.lastTime, time: time, pin: pin });
          if (!w.recur) this.removeWatch(w);
          if (typeof w.cb === "string") this.evalString(w.cb);
          else this.call(w.cb, this.ctx, [data]);
        }
        w.lastTime = time;
      }
    }
  }

  private shouldExec(w: WatchEntry, high: boolean): boolean {
    return w.edge === 0 || (high && w.edge > 0) || (!high && w.edge < 0);
  }

  /* DHT22: the host's start pulse (driven low >= 0.8 ms, AM2302 table "Tbe") then release starts a frame,
   * played back as level changes with the data sheet's timing, each with its own event time. */
  private dhtCheck(p: number, level: number, atMs: number): void {
    const dev = this.dhts.find((d) => d.pin === p);
    if (!dev) return;
    if (level === 0 && this.driven(p)) {
      this.dhtLowAt.set(p, atMs);
      return;
    }
    const low = this.dhtLowAt.get(p);
    if (level !== 1 || low === undefined) return;
    this.dhtLowAt.delete(p);
    if (atMs - low < 0.8) return;
    const frame = dev.frame();
    if (!frame) return;
    const edges = dht22Edges(frame, atMs / 1000).slice(1);
    const gen = this.gen;
    const endMs = edges.length ? edges[edges.length - 1].time * 1000 : atMs;
    const h = setTimeout(() => {
      this.hostTimers.delete(h);
      if (gen !== this.gen) return;
      for (const e of edges) {
        this.pins[p].ext = e.state ? -1 : 0;
        this.update(p, e.time * 1000);
      }
      this.pins[p].ext = -1;
      this.update(p, endMs);
    }, Math.max(0, endMs - performance.now()) + 1);
    this.hostTimers.add(h);
  }

  // ------------------------------------------------------------------ I2C

  private i2cSetup(bus: any, o: any, hardware: boolean): void {
    const sda = o && o.sda !== undefined ? this.toPin(o.sda) : hardware ? this.defaultI2C("sda") : -1;
    const scl = o && o.scl !== undefined ? this.toPin(o.scl) : hardware ? this.defaultI2C("scl") : -1;
    if (o && o.bitrate !== undefined && !(Number(o.bitrate) > 0)) throw this.err("Invalid I2C bitrate");
    this.busOf.set(bus, { sda, scl, hardware: hardware && this.board.espruino !== "LINUX" });
  }

  private defaultI2C(which: "sda" | "scl"): number {
    const label = this.board.i2c[which];
    const n = this.board.pins[label];
    return typeof n === "number" ? n : parseInt(label.replace(/^\D+/, ""), 10);
  }

  /** Bytes as Espruino's jsvIterateCallback flattens them: numbers, strings, arrays, typed arrays, {data,count}. */
  flatten(args: any[]): number[] {
    const out: number[] = [];
    const walk = (v: any) => {
      if (typeof v === "number" || typeof v === "boolean") out.push(Number(v) & 0xff);
      else if (typeof v === "string") for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i) & 0xff);
      else if (v && ArrayBuffer.isView(v)) for (let i = 0; i < (v as any).length; i++) out.push((v as any)[i] & 0xff);
      else if (v && Object.prototype.toString.call(v) === "[object ArrayBuffer]") for (const x of new Uint8Array(v)) out.push(x);
      else if (Array.isArray(v)) for (const x of v) walk(x);
      else if (v && typeof v === "object" && "data" in v) {
        const n = v.count === undefined ? 1 : Number(v.count);
        for (let i = 0; i < n; i++) walk(v.data);
      } else if (v !== undefined && v !== null) throw this.err("Data type not supported: " + typeof v);
    };
    for (const a of args) walk(a);
    return out;
  }

  private findChip(st: BusState, addr: number): I2CDevice | null {
    for (const d of this.i2cDevs) if (d.dev.address === addr && d.sda === st.sda && d.scl === st.scl) return d.dev;
    return null;
  }

  private busFault(st: BusState, dev: I2CDevice | null, write: boolean): "nack" | "ok" {
    const fail = dev ? (dev as any).fail : "unplugged";
    if (fail === "timeout") {
      // Clock held low: jsi2c.c "Timeout (wr)"/"(rd)"; the ESP32 driver reports a busy bus.
      if (st.hardware && this.board.espruino === "ESP32") throw this.err((write ? "jshI2CWrite" : "jshI2CRead") + ":, Operation timeout because the bus is busy");
      throw this.err("I2C Error: Timeout (" + (write ? "wr" : "rd") + ")");
    }
    if (!dev || fail === "unplugged") {
      if (!st.hardware) return "nack"; // software I2C does not check ACKs: writes vanish, reads give 0xFF
      if (this.board.espruino === "ESP32") throw this.err((write ? "jshI2CWrite" : "jshI2CRead") + ": slave doesn't ACK the transfer");
      throw this.internalErr((write ? "I2CWrite" : "I2CRead") + ": No ACK 0");
    }
    return "ok";
  }

  private i2cWrite(bus: any, args: any[]): void {
    const st = this.busOf.get(bus) || { sda: -1, scl: -1, hardware: false };
    let addr = args[0];
    if (addr && typeof addr === "object") addr = addr.address;
    const bytes = Uint8Array.from(this.flatten(args.slice(1)));
    const dev = this.findChip(st, Number(addr));
    if (this.busFault(st, dev, true) === "nack") return;
    try {
      dev!.write(bytes);
    } catch (e: any) {
      throw this.err(String(e && e.message ? e.message : e));
    }
  }

  private i2cRead(bus: any, a: any, n: any): Uint8Array {
    const st = this.busOf.get(bus) || { sda: -1, scl: -1, hardware: false };
    const addr = a && typeof a === "object" ? a.address : a;
    const count = Math.max(0, Math.floor(Number(n)) || 0);
    const dev = this.findChip(st, Number(addr));
    if (this.busFault(st, dev, false) === "nack") return this.bytesToCtx(new Uint8Array(count).fill(0xff));
    let data: Uint8Array;
    try {
      data = dev!.read(count);
    } catch (e: any) {
      throw this.err(String(e && e.message ? e.message : e));
    }
    return this.bytesToCtx(data);
  }

  // ------------------------------------------------------------------ modules

  private requireModule(name: string): any {
    switch (name) {
      case "Storage":
        return this.storageModule();
      case "net":
        return this.mk({ connect: (o: any, cb: any) => this.connect(o, cb, false), createServer: this.stub("net.createServer()") });
      case "tls":
        if (this.board.tls) return this.mk({ connect: (o: any, cb: any) => this.connect(o, cb, true) });
        break;
      case "Wifi":
        if (this.board.wifi) return this.wifiModule();
        break;
      case "crypto":
        return this.cryptoModule();
    }
    throw this.err('Module "' + name + '" not found');
  }

  private cryptoModule(): any {
    const hash = (alg: string) => (d: any) => {
      const h = crypto.createHash(alg).update(Buffer.from(this.flatten([d]))).digest();
      return this.bytesToCtx(h).buffer;
    };
    const m = this.mk({ SHA1: hash("sha1"), PBKDF2: this.stub("crypto.PBKDF2()"), AES: this.stub("crypto.AES") });
    if (this.board.espruino !== "ESP8266_4MB") m.SHA256 = hash("sha256");
    return m;
  }

  private storageModule(): any {
    const self = this;
    const S = this.storage;
    const toData = (d: any): string => {
      if (typeof d === "string") return d;
      if (d && (ArrayBuffer.isView(d) || Object.prototype.toString.call(d) === "[object ArrayBuffer]")) return Buffer.from(self.flatten([d])).toString("latin1");
      return String(d);
    };
    const parse = (name: string, text: string | undefined, noExceptions: boolean) => {
      if (text === undefined) return undefined;
      try {
        return self.ctx.JSON.parse(text);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    };
    return this.mk({
      read: (name: any, offset: any, length: any) => {
        const t = S.read(String(name));
        if (t === undefined) return undefined;
        const o = offset === undefined ? 0 : Number(offset);
        return length === undefined ? t.substr(o) : t.substr(o, Number(length));
      },
      readJSON: (name: any, noExceptions: any) => parse(String(name), S.read(String(name)), !!noExceptions),
      readArrayBuffer: (name: any) => {
        const t = S.read(String(name));
        return t === undefined ? undefined : self.bytesToCtx(Buffer.from(t, "latin1")).buffer;
      },
      write: (name: any, data: any, offset: any, size: any) => {
        const d = toData(data);
        if (offset === undefined && d.length === 0) throw self.err("Can't create zero length file");
        if (offset === undefined) S.write(String(name), d);
        else {
          const old = S.read(String(name)) ?? " ".repeat(Number(size) || 0);
          const o = Number(offset);
          S.write(String(name), old.substr(0, o) + d + old.substr(o + d.length));
        }
        return true;
      },
      writeJSON: (name: any, data: any) => {
        const d = self.ctx.JSON.stringify(data);
        if (d === undefined || d.length === 0) throw self.err("Can't create zero length file");
        S.write(String(name), d);
        return true;
      },
      erase: (name: any) => {
        S.erase(String(name));
      },
      eraseAll: () => {
        for (const n of S.list()) S.erase(n);
      },
      list: (re: any) => {
        const names = S.list().filter((n) => !(re && typeof re.test === "function") || re.test(n));
        const a = self.ctxApi.arr();
        for (const n of names) a.push(n);
        return a;
      },
      getFree: () => Math.max(0, (this.board.espruino === "ESP8266_4MB" ? 196608 : 1048576) - S.list().reduce((s, n) => s + (S.read(n) || "").length + 32, 0)),
      compact: () => undefined,
      getStats: () => self.mk({ fileCount: S.list().length }),
      open: this.stub("Storage.open()"),
      hash: this.stub("Storage.hash()")
    });
  }

  // ------------------------------------------------------------------ Wifi (ESP8266/ESP32 builds)

  private ip(): string {
    const h = crypto.createHash("sha1").update(this.id).digest();
    return "192.168." + (1 + (h[0] % 250)) + "." + (2 + (h[1] % 250));
  }

  private wifiModule(): any {
    if (this.wifiMod) return this.wifiMod;
    const self = this;
    const W = this.mk({});
    this.wifiMod = W;
    W.connect = function (ssid: any, opts: any, cb: any) {
      if (typeof ssid !== "string" || !ssid) throw self.err("No SSID provided");
      if (opts !== undefined && (opts === null || typeof opts !== "object")) throw self.err("Expecting Object, got " + typeof opts);
      const password = opts ? opts.password : undefined;
      if (password !== undefined && typeof password !== "string") throw self.err("Expecting options.password to be a string but got " + typeof password);
      const ap = self.opts.ap || {};
      if (self.wifiConnecting) clearTimeout(self.wifiConnecting);
      const wasUp = self.wifiUp;
      self.wifiUp = false;
      if (wasUp) self.wifiLost("assoc_leave");
      const gen = self.gen;
      const attempt = () => {
        self.wifiConnecting = null;
        if (gen !== self.gen) return;
        if (ap.ssid !== undefined && ap.ssid !== ssid) return self.queue(() => self.call(cb, self.ctx, ["no ap found"]));
        if (ap.password !== undefined && ap.password !== (password || "")) return self.queue(() => self.call(cb, self.ctx, ["wrong password"]));
        const wait = self.wifiDownUntil - performance.now();
        if (wait > 0) {
          self.wifiConnecting = setTimeout(attempt, wait);
          return;
        }
        self.wifiUp = true;
        self.queue(() => {
          self.emitOn(W, "associated", [self.mk({ ssid, mac: "ac:84:c6:00:00:01", channel: 6 })]);
          self.call(cb, self.ctx, [null]);
          self.emitOn(W, "connected", [self.mk({ ip: self.ip(), mask: "255.255.255.0", gw: self.ip().replace(/\.\d+$/, ".1") })]);
        });
      };
      self.wifiConnecting = setTimeout(attempt, 50);
    };
    W.disconnect = function (cb: any) {
      if (self.wifiConnecting) clearTimeout(self.wifiConnecting);
      self.wifiConnecting = null;
      if (self.wifiUp) {
        self.wifiUp = false;
        self.wifiLost("assoc_leave");
      }
      if (typeof cb === "function") self.queue(() => self.call(cb, self.ctx, []));
    };
    W.getIP = function (cb: any) {
      const o = self.wifiUp ? self.mk({ ip: self.ip(), netmask: "255.255.255.0", gw: self.ip().replace(/\.\d+$/, ".1"), mac: "5c:cf:7f:00:00:01" }) : self.mk({ ip: "0.0.0.0", netmask: "0.0.0.0", gw: "0.0.0.0", mac: "5c:cf:7f:00:00:01" });
      if (typeof cb === "function") self.queue(() => self.call(cb, self.ctx, [null, o]));
      return o;
    };
    W.getStatus = function (cb: any) {
      const o = self.mk({ mode: "sta", station: self.wifiUp ? "connected" : self.wifiConnecting ? "connecting" : "off", ap: "disabled", phy: "11n", powersave: "none", savedMode: "off" });
      if (typeof cb === "function") self.queue(() => self.call(cb, self.ctx, [o]));
      return o;
    };
    W.setHostname = function (_n: any, cb: any) {
      if (typeof cb === "function") self.queue(() => self.call(cb, self.ctx, []));
    };
    W.stopAP = function (cb: any) {
      if (typeof cb === "function") self.queue(() => self.call(cb, self.ctx, []));
    };
    for (const n of ["startAP", "scan", "save", "restore", "getDetails", "getAPDetails", "getAPIP", "getHostname", "ping", "setConfig", "setSNTP", "setIP", "setAPIP", "getHostByName", "turbo"]) W[n] = this.stub("Wifi." + n + "()");
    return W;
  }

  /** The access point vanished: 'disconnected' fires, every socket dies on the device side (the far end
   * hears nothing, as with a radio gone quiet). */
  wifiLost(reason: string): void {
    for (const s of Array.from(this.sockets)) {
      s.blackholed = true;
      if (s.node) this.zombies.add(s.node);
      this.closeSock(s, -9);
    }
    if (this.wifiMod) {
      const W = this.wifiMod;
      this.queue(() => this.emitOn(W, "disconnected", [this.mk({ ssid: "sim", mac: "ac:84:c6:00:00:01", reason })]));
    }
  }

  /** Fault: Wifi lost for `seconds`; the SDK reassociates by itself afterwards (ESP8266/ESP32). */
  wifiDrop(seconds: number): void {
    if (!this.board.wifi) throw new Error("sim: board " + this.board.id + " has no Wifi");
    this.wifiDownUntil = performance.now() + seconds * 1000;
    const wasUp = this.wifiUp;
    this.wifiUp = false;
    if (wasUp) this.wifiLost("beacon_timeout");
    if (!wasUp) return;
    const gen = this.gen;
    const h = setTimeout(() => {
      this.hostTimers.delete(h);
      if (gen !== this.gen || this.wifiUp) return;
      this.wifiUp = true;
      const W = this.wifiMod;
      if (W) this.queue(() => this.emitOn(W, "connected", [this.mk({ ip: this.ip(), mask: "255.255.255.0", gw: this.ip().replace(/\.\d+$/, ".1") })]));
    }, seconds * 1000);
    this.hostTimers.add(h);
  }

  // ------------------------------------------------------------------ sockets (libs/network/socketserver.c)

  private connect(options: any, cb: any, secure: boolean): any {
    const self = this;
    let o = options;
    if (typeof o === "string") {
      const m = /^(?:[a-z]+:\/\/)?([^:/]+)(?::(\d+))?/.exec(o);
      o = { host: m ? m[1] : o, port: m && m[2] ? Number(m[2]) : 0 };
    }
    if (!o || typeof o !== "object") throw this.err("Expecting Options to be an Object but it was " + typeof o);
    if (cb !== undefined && typeof cb !== "function") throw this.err("Expecting Callback Function but got " + typeof cb);
    const host = o.host === undefined ? "127.0.0.1" : String(o.host);
    let port = Number(o.port) || 0;
    if (secure && port === 0) port = 443;
    if (this.board.wifi && !this.wifiUp) throw this.internalErr("Unable to create socket");
    // The Linux and ESP32 builds connect() blocking: a refused port throws at once. ESP8266 connects in the
    // background and reports ECONNREFUSED as an error event (code -9).
    if (this.board.espruino !== "ESP8266_4MB" && loopbackListening(host, port) === false) {
      this.print("ERROR: Connect failed (err 111)");
      throw this.internalErr("Unable to create socket");
    }
    const obj = new this.ctx.Socket();
    const st: SockState = { obj, node: null, connected: false, closed: false, ending: false, blackholed: false, pending: [], rx: "", error: 0, host, port };
    this.sockOf.set(obj, st);
    this.sockets.add(st);
    if (typeof cb === "function") obj.on("connect", cb);
    let sock: net.Socket;
    if (secure) {
      const pem = (v: any, kind: string) => {
        if (v === undefined) return undefined;
        const s = String(v);
        if (s.indexOf("-----BEGIN") >= 0) return s;
        const b64 = Buffer.from(s, "latin1").toString("base64").replace(/(.{64})/g, "$1\n");
        return "-----BEGIN " + kind + "-----\n" + b64 + "\n-----END " + kind + "-----\n";
      };
      // Espruino's mbedtls setup uses MBEDTLS_SSL_VERIFY_NONE (libs/network/network.c): the server is
      // never verified, even with a ca. The simulator does the same so it hides nothing.
      sock = tls.connect({ host, port, rejectUnauthorized: false, ca: pem(o.ca, "CERTIFICATE"), cert: pem(o.cert, "CERTIFICATE"), key: pem(o.key, "PRIVATE KEY"), servername: net.isIP(host) ? undefined : host });
    } else sock = net.connect({ host, port });
    st.node = sock;
    const gen = this.gen;
    sock.setNoDelay(true);
    sock.on(secure ? "secureConnect" : "connect", () => {
      if (gen !== this.gen || st.closed) return;
      st.connected = true;
      for (const b of st.pending) if (!st.blackholed) sock.write(b);
      st.pending = [];
      if (st.ending) sock.end();
      this.queue(() => {
        this.emitOn(obj, "connect", [obj]);
        this.emitOn(obj, "drain", [obj]);
      });
      if (this.opts.trace) this.print("sim: socket connected to " + host + ":" + port);
    });
    const chunk = this.board.espruino === "ESP8266_4MB" ? 268 : 536;
    sock.on("data", (d: Buffer) => {
      if (gen !== this.gen || st.closed || st.blackholed) return;
      for (let i = 0; i < d.length; i += chunk) {
        const part = d.subarray(i, i + chunk).toString("latin1");
        this.queue(() => {
          if (st.closed) return;
          st.rx += part;
          if (this.ctxApi.listeners(obj, "data").length) {
            const all = st.rx;
            st.rx = "";
            this.emitOn(obj, "data", [all]);
          }
        });
      }
    });
    sock.on("error", (e: any) => {
      const code = e && e.code;
      st.error = code === "ECONNRESET" || code === "ECONNREFUSED" ? -9 : code === "EPIPE" ? -8 : code === "ETIMEDOUT" ? -3 : code === "EHOSTUNREACH" || code === "ENETUNREACH" ? -4 : secure && !st.connected ? -13 : -10;
    });
    sock.on("close", () => {
      if (gen !== this.gen || st.blackholed) return;
      this.closeSock(st, st.error);
    });
    return obj;
  }

  /** Close on the device side: error event (if any), then 'end', then 'close'(hadError). */
  private closeSock(st: SockState, error: number): void {
    if (st.closed) return;
    st.closed = true;
    this.sockets.delete(st);
    const obj = st.obj;
    const hadError = error < 0 && error !== -1;
    this.queue(() => {
      if (st.rx && this.ctxApi.listeners(obj, "data").length) {
        const all = st.rx;
        st.rx = "";
        this.emitOn(obj, "data", [all]);
      }
      if (hadError) this.emitOn(obj, "error", [this.mk({ code: error, message: SOCKET_ERRORS[error] || "unknown error" })]);
      this.emitOn(obj, "end", []);
      this.emitOn(obj, "close", [hadError]);
    });
  }

  private toBytes(data: any, what: string): Buffer {
    const s = typeof data === "string" ? data : String(data);
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) throw this.err(what + ": character 0x" + s.charCodeAt(i).toString(16) + " at " + i + " is not a byte (Espruino strings are byte strings)");
    return Buffer.from(s, "latin1");
  }

  private sockWrite(obj: any, data: any): boolean {
    const st = this.sockOf.get(obj);
    if (!st || st.closed || st.ending) return false;
    if (data === undefined) return false;
    const b = this.toBytes(data, "Socket.write");
    if (st.blackholed) return false;
    if (st.connected && st.node) st.node.write(b);
    else st.pending.push(b);
    return false;
  }

  private sockEnd(obj: any, data: any): void {
    const st = this.sockOf.get(obj);
    if (!st || st.closed) return;
    if (data !== undefined) this.sockWrite(obj, data);
    st.ending = true;
    if (st.blackholed) {
      // The FIN is lost like everything else: the far end keeps a silent socket until its keepalive.
      if (st.node) this.zombies.add(st.node);
      this.closeSock(st, 0);
      return;
    }
    if (!st.connected) {
      if (!st.pending.length && st.node) {
        st.node.destroy();
        this.closeSock(st, 0);
      }
      return;
    }
    st.node!.end();
  }

  /** Fault: the connection is cut without FIN, both ways; neither side notices until its keepalive. */
  cutTcp(): number {
    let n = 0;
    for (const st of this.sockets) {
      if (st.blackholed) continue;
      st.blackholed = true;
      n++;
    }
    return n;
  }

  /** Open sockets as seen by the device (for status displays). */
  /** Timers (timeouts and intervals) the bundle has pending: for leak checks in tests. */
  timerCount(): number {
    return this.timers.length;
  }

  /** Pin watches the bundle has set: for leak checks in tests. */
  watchCount(): number {
    return this.watches.length;
  }

  openSockets(): number {
    return this.sockets.size;
  }

  // ------------------------------------------------------------------ memory estimate

  /* JsVars the way Espruino counts them, estimated by walking what the bundle can reach from its globals:
   * one per object/array/function plus one per property (a small integer or boolean value shares its
   * name's JsVar), strings one per 10 characters, typed arrays one per 12 bytes, timers 4 and watches 6
   * each. Closure scopes are invisible to the walk, so this is a lower bound (ESPRUINO.md). */
  sizeOf(v: any, seen: Set<any>): number {
    if (v === null || v === undefined || typeof v === "boolean") return 1;
    if (typeof v === "number") return 1;
    if (typeof v === "string") return 1 + Math.floor(v.length / 10);
    if (typeof v !== "object" && typeof v !== "function") return 1;
    if (seen.has(v)) return 0;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return 2 + Math.ceil((v as any).byteLength / 12);
    let n = typeof v === "function" ? 2 : 1;
    let keys: string[];
    try {
      keys = Object.getOwnPropertyNames(v);
    } catch {
      return n;
    }
    for (const k of keys) {
      if (typeof v === "function" && (k === "length" || k === "name" || k === "prototype" || k === "arguments" || k === "caller")) continue;
      let val: any;
      try {
        val = v[k];
      } catch {
        continue;
      }
      const small = (typeof val === "number" && Math.floor(val) === val && Math.abs(val) < 1024) || typeof val === "boolean";
      n += 1 + (small ? 0 : this.sizeOf(val, seen));
    }
    if (typeof v === "function" && v.prototype && typeof v.prototype === "object") n += this.sizeOf(v.prototype, seen);
    return n;
  }

  jsVarsUsed(): number {
    if (!this.ctx) return 0;
    // The global object is counted by the loop below, property by property: a reference to it (firmware's
    // DeviceClock is the global object) costs one JsVar, as on the device, not a second copy of everything.
    const seen = new Set<any>([this.ctx]);
    let n = 120; // Espruino's own state at boot (Linux build: usage 101-194 before any user code)
    for (const k of Object.getOwnPropertyNames(this.ctx)) {
      if (this.builtinNames.has(k)) continue;
      n += 1 + this.sizeOf(this.ctx[k], seen);
    }
    for (const k of ["E", "process"]) if (this.ctx[k]) n += this.sizeOf(Object.getOwnPropertyDescriptor(this.ctx[k], this.ctxApi.evKey)?.value, seen);
    for (const t of this.timers) n += 4 + this.sizeOf(t.fn, seen);
    for (const w of this.watches) n += 6 + this.sizeOf(w.cb, seen);
    for (const s of this.sockets) n += 8 + this.sizeOf(s.obj, seen) + this.sizeOf(Object.getOwnPropertyDescriptor(s.obj, this.ctxApi.evKey)?.value, seen) + Math.floor(s.rx.length / 10);
    if (this.wifiMod) n += this.sizeOf(Object.getOwnPropertyDescriptor(this.wifiMod, this.ctxApi.evKey)?.value, seen);
    return n;
  }

  memory(): { free: number; usage: number; total: number } {
    const total = this.board.jsVars || 4096;
    const usage = this.jsVarsUsed();
    return { free: Math.max(0, total - usage), usage, total };
  }

  private memoryObj(): any {
    const m = this.memory();
    return this.mk({ free: m.free, usage: m.usage, total: m.total, history: 0, gc: 0, gctime: 0, blocksize: 12 });
  }
}
