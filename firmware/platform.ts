/*
 * Espruino glue: the only module besides main.ts that touches Espruino's globals. It turns them into the
 * small interfaces of firmware/types.ts (Clock, Connector/Link, OutputPin, InputPin, RegisterIO) plus the
 * Wifi station and the watchdog, so everything deeper in the tree can run on the host with fakes.
 *
 * Espruino quirks handled here (../shared/ESPRUINO.md, ARCHITECTURE.md "Espruino timer semantics"):
 * - clearTimeout(undefined) throws and clearTimeout() stops every timer; clearWatch() clears every watch.
 * - require("net").connect() to a closed port may throw at once; we report it as onClose, later.
 * - getTime() is seconds (float); the Clock speaks milliseconds.
 * - digitalWrite() on a pin in automatic mode switches it to output first and sets the level second;
 *   the relay pin is therefore put in manual input mode, given its level, and only then made an output.
 */
import type { Clock, Connector, Link, LinkEvents, OutputPin, InputPin, RegisterIO } from "./types";

/* Espruino globals whose @types/espruino declarations are missing or too narrow for numeric pins. */
declare var I2C: any;
declare function setWatch(fn: (e: any) => void, pin: any, options: any): any;
declare function clearWatch(id: any): void;
declare function digitalWrite(pin: any, level: any): void;
declare function digitalRead(pin: any): number;
declare function pinMode(pin: any, mode: string, automatic?: boolean): void;
declare function setTimeout(fn: () => void, ms: number): any;
declare function setInterval(fn: () => void, ms: number): any;

/** The device Clock: getTime() seconds as milliseconds; timers that never clear everything by mistake. */
export class DeviceClock implements Clock {
  now(): number {
    return getTime() * 1000;
  }

  setTimeout(fn: () => void, ms: number): any {
    return setTimeout(fn, ms);
  }

  clearTimeout(id: any): void {
    // Espruino: no argument clears every timer, undefined throws, an id that already fired may throw.
    if (id === undefined || id === null) return;
    try {
      clearTimeout(id);
    } catch (e) {
      // already fired: nothing to cancel
    }
  }
}

/*
 * One TCP (or TLS) connection. Events reach `events` until close() or the first close/error; Espruino
 * sockets deliver data as byte strings, which is what the MQTT client speaks.
 */
class NetLink implements Link {
  private _ev: LinkEvents | null;
  private _sock: any;
  private _error: string;

  constructor(host: string, port: number, tls: boolean, events: LinkEvents) {
    this._ev = events;
    this._sock = null;
    this._error = "";
    var self = this;
    try {
      // Literal module names: the bundle guard (tools/guard.ts) only allows require("<built-in>").
      var mod = tls ? require("tls") : require("net");
      var sock = mod.connect({ host: host, port: port }, function () {
        if (self._ev) self._ev.onOpen();
      });
      this._sock = sock;
      sock.on("data", function (data: string) {
        if (self._ev) self._ev.onData(data);
      });
      sock.on("error", function (err: any) {
        self._error = err && err.message ? String(err.message) : String(err && err.code !== undefined ? "error " + err.code : "socket error");
      });
      sock.on("close", function () {
        self._closed(self._error || "closed");
      });
    } catch (e: any) {
      // Espruino throws "Unable to create socket" on a refused port: report it like any close, but later,
      // so the caller has the Link in hand first (Connector contract, firmware/types.ts).
      this._error = "connect failed: " + (e && e.message ? e.message : String(e));
      setTimeout(function () {
        self._closed(self._error);
      }, 0);
    }
  }

  write(data: string): void {
    if (!this._sock) return;
    try {
      this._sock.write(data);
    } catch (e: any) {
      this._error = "write failed: " + (e && e.message ? e.message : String(e));
      this._drop();
      var self = this;
      setTimeout(function () {
        self._closed(self._error);
      }, 0);
    }
  }

  /** Close now, flushing what was written (a DISCONNECT); no event arrives afterwards. */
  close(): void {
    this._ev = null;
    this._drop();
  }

  _drop(): void {
    var s = this._sock;
    this._sock = null;
    if (!s) return;
    try {
      s.end();
    } catch (e) {
      // already gone
    }
  }

  _closed(reason: string): void {
    var ev = this._ev;
    this._ev = null;
    this._sock = null;
    if (ev) ev.onClose(reason);
  }
}

/**
 * A Connector to host:port over require("net"), or require("tls") where the board has it (ESP32, Linux;
 * config validation refuses tls on the ESP8266). Each call opens one new link.
 */
export function netConnector(host: string, port: number, tls: boolean): Connector {
  return function (events: LinkEvents): Link {
    return new NetLink(host, port, tls, events);
  };
}

/**
 * The Wifi station (ESP8266/ESP32). Set onUp/onDown, then start(); the SDK reconnects by itself after a
 * drop, and we report each change once. The Linux build has no Wifi module: main.ts skips this class there.
 */
export class WifiStation {
  /** Connected with an address (dotted quad, "" when unknown). */
  onUp: (ip: string) => void;
  onDown: (reason: string) => void;
  up: boolean;
  private _ssid: string;
  private _password: string;

  constructor(ssid: string, password: string) {
    this._ssid = ssid;
    this._password = password;
    this.up = false;
    this.onUp = noop;
    this.onDown = noop;
  }

  start(): void {
    var self = this;
    var w = require("Wifi");
    w.on("connected", function (details: any) {
      var ip = details && details.ip ? details.ip : "";
      if (!ip) {
        try {
          ip = w.getIP().ip;
        } catch (e) {
          ip = "";
        }
      }
      if (self.up) return;
      self.up = true;
      self.onUp(ip);
    });
    w.on("disconnected", function (details: any) {
      if (!self.up) return;
      self.up = false;
      self.onDown(details && details.reason !== undefined ? String(details.reason) : "disconnected");
    });
    w.connect(this._ssid, { password: this._password }, function (err: any) {
      if (err) self.onDown(String(err.message || err));
    });
  }
}

function noop(): void {
  // default callback
}

/**
 * A push-pull output. The first write latches the level while the pin is still an input and only then
 * turns the driver on, so an active-low relay never sees a pulse of the wrong level at boot.
 */
export class DeviceOutputPin implements OutputPin {
  private _pin: number;
  private _level: number;
  private _ready: boolean;

  constructor(pin: number) {
    this._pin = pin;
    this._level = -1;
    this._ready = false;
  }

  write(level: number): void {
    var v = level ? 1 : 0;
    if (!this._ready) {
      // Manual input mode: digitalWrite then only sets the output latch without enabling the driver.
      pinMode(this._pin, "input", false);
      digitalWrite(this._pin, v);
      pinMode(this._pin, "output", false);
      this._ready = true;
    }
    digitalWrite(this._pin, v);
    this._level = v;
  }

  /** The level last written (0 before any write would be a guess, so it is the safe reading -1 -> 0). */
  read(): number {
    return this._level < 0 ? 0 : this._level;
  }
}

/** A digital input with optional pull ("up", "down", "none"); watch() reports edges, debounced 50 ms. */
export class DeviceInputPin implements InputPin {
  private _pin: number;

  constructor(pin: number, pull: string) {
    this._pin = pin;
    pinMode(pin, pull === "up" ? "input_pullup" : pull === "down" ? "input_pulldown" : "input", false);
  }

  read(): number {
    return digitalRead(this._pin) ? 1 : 0;
  }

  watch(callback: (level: number) => void): any {
    return setWatch(
      function (e: any) {
        callback(e.state ? 1 : 0);
      },
      this._pin,
      { repeat: true, edge: "both", debounce: 50 }
    );
  }

  unwatch(handle: any): void {
    // clearWatch() without an id removes every watch on the device.
    if (handle === undefined || handle === null) return;
    try {
      clearWatch(handle);
    } catch (e) {
      // already gone
    }
  }
}

/** A software I2C bus on two GPIOs (Espruino's `new I2C()`), 100 kHz. */
export function i2cBus(sda: number, scl: number): any {
  var bus = new I2C();
  bus.setup({ sda: sda, scl: scl, bitrate: 100000 });
  return bus;
}

/** Register access to one chip on an I2C bus: write the register pointer, then read from it. */
export class I2CRegisterIO implements RegisterIO {
  private _bus: any;
  private _addr: number;

  constructor(bus: any, address: number) {
    this._bus = bus;
    this._addr = address;
  }

  read(reg: number, buffer: Uint8Array): void {
    this._bus.writeTo(this._addr, reg);
    var d = this._bus.readFrom(this._addr, buffer.length);
    if (!d || d.length !== buffer.length) throw new Error("I2C read of " + buffer.length + " bytes got " + (d ? d.length : 0));
    for (var i = 0; i < buffer.length; i++) buffer[i] = d[i];
  }

  write(reg: number, value: number): void {
    this._bus.writeTo(this._addr, [reg, value]);
  }
}

/** The Espruino pin calls the DHT22 driver needs (its DHTPins), passed through to the globals. */
export class DeviceDHTPins {
  pinMode(pin: number, mode: string): void {
    pinMode(pin, mode, false);
  }

  digitalWrite(pin: number, level: number): void {
    digitalWrite(pin, level);
  }

  setWatch(callback: (e: any) => void, pin: number, options: { repeat: boolean; edge: string }): any {
    return setWatch(callback, pin, options);
  }

  clearWatch(id: any): void {
    // clearWatch() without an id removes every watch on the device.
    if (id === undefined || id === null) return;
    try {
      clearWatch(id);
    } catch (e) {
      // already gone
    }
  }
}

/**
 * Start the hardware watchdog (E.enableWatchdog with automatic kicking off) and kick it every kickMs from
 * a main-loop interval, so a hung interpreter resets the board. Returns false where the build has none
 * (Linux): tried by calling, since typeof tests lie on Espruino.
 */
export function startWatchdog(seconds: number, kickMs: number): boolean {
  try {
    (E as any).enableWatchdog(seconds, false);
  } catch (e) {
    return false;
  }
  setInterval(kickWatchdog, kickMs);
  return true;
}

function kickWatchdog(): void {
  try {
    (E as any).kickWatchdog();
  } catch (e) {
    // no watchdog on this build
  }
}

/** Call fn when the interpreter is about to reset or quit (E.on("kill")): the graceful shutdown hook. */
export function onKill(fn: () => void): void {
  (E as any).on("kill", fn);
}
