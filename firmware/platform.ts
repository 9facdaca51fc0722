/*
 * Espruino glue: the only module besides main.ts that touches Espruino's globals. It turns them into the
 * small interfaces of firmware/types.ts (Clock, Connector/Link, OutputPin, InputPin, RegisterIO) plus the
 * Wifi station and the watchdog, so everything deeper in the tree can run on the host with fakes.
 *
 * Espruino quirks handled here (../shared/ESPRUINO.md, ARCHITECTURE.md "Espruino timer semantics"):
 * - clearTimeout(undefined) throws and clearTimeout() stops every timer (the Clock's callers test their id;
 *   DeviceClock); clearWatch() clears every watch.
 * - require("net").connect() to a closed port may throw at once; we report it as onClose, later.
 * - digitalWrite() on a pin in automatic mode switches it to output first and sets the level second;
 *   the relay pin is therefore put in manual input mode, given its level, and only then made an output.
 *
 * Memory (ARCHITECTURE.md "Memory"; measured on Espruino 2v29 with code in Storage): every function
 * object here lives as long as the firmware, 5 JsVars + 1 per parameter, and a TypeScript `class` costs
 * about 3 more per method plus 7 for the IIFE it compiles to. Hence:
 * - no constructor survives boot: the objects are plain literals sharing module-level functions, made
 *   by factories that main.ts calls once (so the minifier inlines them there), callable with `new` too;
 * - Espruino's natives are used wherever they already have the right shape (Date.now, setTimeout,
 *   digitalWrite, setWatch, and a Pin object for the relay): a native is no function object;
 * - the socket itself is the Link, and one shared function serves every event of every socket and
 *   Link.close(): a connection allocates no closure and no wrapper object;
 * - callbacks that outlive boot are bound functions or made by a function called with NOINLINE (Wifi),
 *   so that they keep nothing of main.ts's boot scope (the config) alive.
 */
import { LINK_OPEN, LINK_DATA, LINK_CLOSE } from "./types";
import type { Clock, Connector, Link, LinkEvents, OutputPin, InputPin, RegisterIO } from "./types";
import type { DHTPins } from "./sensors/dht22";

/* Espruino globals whose @types/espruino declarations are missing or too narrow for numeric pins. */
declare var I2C: any;
declare var Pin: any;
declare function setWatch(fn: (e: any) => void, pin: any, options: any): any;
declare function clearWatch(id: any): void;
declare function digitalWrite(pin: any, level: any): void;
declare function digitalRead(pin: any): number;
declare function pinMode(pin: any, mode: string, automatic?: boolean): void;
declare function setTimeout(fn: (...args: any[]) => void, ms: number): any;

/**
 * The device Clock, `DeviceClock()` (or `new DeviceClock()`): Espruino's global object itself, given a `now`.
 * Its setTimeout(fn, ms) and clearTimeout(id) are the natives, and now is Date.now, the system time in ms
 * (the same clock as getTime(), jswrap_date_now): no object and no function of ours, where a
 * {now, setTimeout, clearTimeout} literal with a guarded clearTimeout cost about 13 JsVars.
 * The natives need no guard on 2v29 (jswrap_interactive.c, and checked on the interpreter): clearTimeout
 * of an id that already fired or was cleared, or of null, does nothing. clearTimeout(undefined) throws and
 * clearTimeout() clears every timer: every caller tests its id first, and FakeClock throws on undefined so
 * that the tests would catch one that does not.
 */
export var DeviceClock = function (): Clock {
  var g = global as any;
  g.now = Date.now;
  return g;
} as any as { (): Clock; new (): Clock };

/** A socket used as a Link: write() is the socket's own; close (sockEvent) and _ev are set by openLink. */
interface LinkSocket extends Link {
  _ev: LinkEvents | null;
  /** The last socket error, reported by the close that follows it; unset: none. */
  _err?: string;
  end(): void;
  on(event: string, listener: (x: any) => void): void;
}

/*
 * Every event of every socket, and Link.close() too, `this` being the socket (one shared function instead
 * of closures per connection). Told apart by what arrives, as Espruino passes it (jswrap_net.c, network.c;
 * checked on 2v29):
 *   connect: the socket itself   data: a string   error: an object {code, message}
 *   close: a boolean (had_error): the link is gone, LINK_CLOSE (last error or "closed") is reported once
 *   nothing: Link.close() by the client: end the socket now, flushing what was written (a DISCONNECT);
 *            no event arrives afterwards
 */
function sockEvent(this: LinkSocket, x?: any): void {
  var ev = this._ev;
  if (x === undefined || typeof x === "boolean") {
    this._ev = null;
    if (x !== undefined) {
      if (ev) ev._on(LINK_CLOSE, this._err || "closed");
      return;
    }
    try {
      this.end();
    } catch (e) {
      // already gone
    }
  } else if (!ev) {
    return;
  } else if (typeof x === "string") ev._on(LINK_DATA, x);
  else if (x === this) ev._on(LINK_OPEN);
  else this._err = x.message ? String(x.message) : x.code !== undefined ? "error " + x.code : "socket error";
}

/*
 * The Connector's body, `this` being netConnector's {host, port, tls}: open one link over net or tls. The
 * same object is connect()'s options (the socket keeps them; tls is ignored there): none made per link.
 */
function openLink(this: { host: string; port: number; tls?: boolean }, events: LinkEvents): Link {
  var link: LinkSocket;
  try {
    // Literal module names: the bundle guard (tools/guard.ts) only allows require("<built-in>").
    link = (this.tls ? require("tls") : require("net")).connect(this, sockEvent as () => void);
    link.on("data", sockEvent);
    link.on("error", sockEvent);
    link.on("close", sockEvent);
  } catch (e: any) {
    // Espruino throws "Unable to create socket" on a refused port: report it like any close, but later,
    // so the caller has the Link in hand first (Connector contract, firmware/types.ts).
    link = { write: function () {}, end: function () {}, _err: "connect failed: " + (e && e.message ? e.message : String(e)) } as any;
    setTimeout(sockEvent.bind(link, true), 0);
  }
  link._ev = events;
  link.close = sockEvent;
  return link;
}

/**
 * A Connector to host:port over require("net"), or require("tls") where the board has it (ESP32, Linux;
 * config validation refuses tls on the ESP8266). Each call opens one new link: the socket itself, whose
 * writes after close() go nowhere (Espruino drops them). A bound function: no closure over the caller.
 */
export function netConnector(host: string, port: number, tls: boolean): Connector {
  // tls only when set: the socket keeps this object (its options) for good, and an unset field costs no
  // JsVar where a boolean costs two.
  var o: { host: string; port: number; tls?: boolean } = { host: host, port: port };
  if (tls) o.tls = true;
  return openLink.bind(o);
}

/**
 * Join the Wifi network (ESP8266/ESP32) and start `client` the first time it is up; the SDK reconnects
 * by itself after a drop, and each change is logged once. The Linux build has no Wifi module: main.ts
 * does not call this there. Call it with NOINLINE: its two handlers then keep only this small scope.
 */
export function startWifi(ssid: string, password: string, client: { start(): void }): void {
  var w = require("Wifi");
  var up = false;
  var started = false;
  w.on("connected", function (details: any) {
    if (up) return;
    up = true;
    var ip = details && details.ip ? details.ip : "";
    if (!ip) {
      try {
        ip = w.getIP().ip;
      } catch (e) {
        ip = "";
      }
    }
    console.log("wifi: connected " + ip);
    if (started) return;
    started = true;
    client.start();
  });
  // Also the connect callback: null when it worked, a message when it did not.
  function down(d: any): void {
    if (!d || (!up && d.reason !== undefined)) return;
    up = false;
    console.log("wifi: disconnected (" + (d.reason !== undefined ? d.reason : d.message || d) + ")");
  }
  w.on("disconnected", down);
  console.log("wifi: connecting to " + ssid);
  w.connect(ssid, { password: password }, down);
}

/**
 * The relay output: pin driven to `level` without a glitch, then handed over as Espruino's own Pin object
 * (its native write() is digitalWrite; no function object of ours; its read() would give a boolean, but
 * nothing reads the relay back). The level is latched while the pin is still an input, and only then is
 * the driver turned on (manual mode, so it stays an output), so an active-low relay never sees a pulse of
 * the wrong level at boot.
 */
export function relayPin(pin: number, level: number): OutputPin {
  pinMode(pin, "input", false);
  digitalWrite(pin, level);
  pinMode(pin, "output", false);
  digitalWrite(pin, level);
  return new Pin(pin);
}

/**
 * A push-pull output with the same glitch-free first write, for hosts and bench harnesses; the firmware's
 * relay is relayPin().
 */
export class DeviceOutputPin implements OutputPin {
  private _pin: number;
  /** The level last written; -1 before the first write (pin not yet an output). */
  private _level: number;

  constructor(pin: number) {
    this._pin = pin;
    this._level = -1;
  }

  write(level: number): void {
    var v = level ? 1 : 0;
    if (this._level < 0) {
      pinMode(this._pin, "input", false);
      digitalWrite(this._pin, v);
      pinMode(this._pin, "output", false);
    }
    digitalWrite(this._pin, v);
    this._level = v;
  }

  read(): number {
    return this._level < 0 ? 0 : this._level;
  }
}

/**
 * A digital input with optional pull ("up", "down", "none"): `DeviceInputPin(pin, pull)` (or with new). It is
 * Espruino's own Pin object (read() gives a boolean): the pump polls its interlocks, so no watch and no
 * function of ours. main.ts calls the factory once and the minifier inlines it there.
 */
export var DeviceInputPin = function (pin: number, pull: string): InputPin {
  pinMode(pin, pull === "up" ? "input_pullup" : pull === "down" ? "input_pulldown" : "input", false);
  return new Pin(pin);
} as any as { (pin: number, pull: string): InputPin; new (pin: number, pull: string): InputPin };

/* The DHT22's clearWatch (dhtPins): never clears every watch by mistake. */
function pinUnwatch(handle: any): void {
  // clearWatch() without an id removes every watch on the device; a stale id throws.
  if (handle === undefined || handle === null) return;
  try {
    clearWatch(handle);
  } catch (e) {
    // already gone
  }
}

/**
 * A software I2C bus on two GPIOs (Espruino's `new I2C()`), at its default 100 kHz: not given, as the bus
 * keeps its options object for good.
 */
export function i2cBus(sda: number, scl: number): any {
  var bus = new I2C();
  bus.setup({ sda: sda, scl: scl });
  return bus;
}

/**
 * Register access to one chip on an I2C bus: `I2CRegisterIO(bus, address)` (or with new). The bus object
 * itself, given the address and the two RegisterIO methods: no object of its own (one bus per chip, made by
 * main.ts makeSensor). read and write are one function, ioAccess.
 */
export interface I2CRegisterIO extends RegisterIO {
  _addr: number;
  writeTo(address: number, data: any): void;
  readFrom(address: number, count: number): ArrayLike<number> | undefined;
}

export var I2CRegisterIO = function (bus: any, address: number): I2CRegisterIO {
  bus._addr = address;
  bus.read = bus.write = ioAccess;
  return bus;
} as any as { (bus: any, address: number): I2CRegisterIO; new (bus: any, address: number): I2CRegisterIO };

/*
 * I2CRegisterIO.read and .write in one function object (one instead of two for as long as the node runs),
 * told apart by the second argument: read(reg, buffer) writes the register pointer, then reads
 * buffer.length bytes into buffer and throws on a short read; write(reg, value) writes one byte to reg.
 */
function ioAccess(this: I2CRegisterIO, reg: number, x: Uint8Array | number): void {
  if (typeof x === "number") {
    this.writeTo(this._addr, [reg, x]);
    return;
  }
  this.writeTo(this._addr, reg);
  var d = this.readFrom(this._addr, x.length);
  if (!d || d.length !== x.length) throw new Error("I2C read of " + x.length + " bytes got " + (d ? d.length : 0));
  for (var i = 0; i < x.length; i++) x[i] = d[i];
}

/**
 * The Espruino pin calls the DHT22 driver needs (its DHTPins): digitalWrite and setWatch are the natives
 * themselves, clearWatch is pinUnwatch (guarded); only pinMode (manual mode) needs code.
 * Built only when a DHT22 is configured.
 */
export function dhtPins(): DHTPins {
  return {
    pinMode: function (pin: number, mode: string) {
      pinMode(pin, mode, false);
    },
    digitalWrite: digitalWrite,
    setWatch: setWatch,
    clearWatch: pinUnwatch
  };
}

/**
 * Start the hardware watchdog in automatic mode: Espruino kicks it from its idle loop, so an interpreter
 * stuck in a busy loop (or any code that never returns) resets the board after `seconds`. Automatic
 * rather than an interval calling E.kickWatchdog: the same protection without a timer kept for ever.
 * Returns false where the build has none: tried by calling, since typeof tests lie on Espruino.
 */
export function startWatchdog(seconds: number): boolean {
  try {
    (E as any).enableWatchdog(seconds, true);
  } catch (e) {
    return false;
  }
  return true;
}

/**
 * Call target.shutdown() when the interpreter is about to reset or quit (E.on("kill")): the graceful
 * shutdown hook. Not through a bound copy, which would be kept for as long as the firmware runs (7 JsVars
 * for node.ts's nodeEvent, whose parameters a bound copy repeats): E calls its listeners with `this` = E,
 * so E holds the target in _node, where the listener looks for it as it does on the MQTT client.
 */
export function onKill(target: { shutdown(): void }): void {
  (E as any)._node = target;
  (E as any).on("kill", target.shutdown);
}
