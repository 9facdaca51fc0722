/*
 * config.json: validation and defaults. The same code runs on the host (flash.sh, the simulator, tests)
 * and on the device at boot, so a config is judged the same way everywhere. Each wrong field gives one
 * message naming its path, what was expected and what arrived:
 *   pump.maxRunSeconds must be a number between 1 and 86400, got "ten"
 * Unknown keys are errors too: a typo must not silently drop a safety limit.
 */
import { boardInfo, resolvePin, BOARD_IDS } from "../boards/index";
import type { BoardInfo } from "../boards/types";

export type SensorType = "bme280" | "bmp280" | "dht22";

/** Per-quantity numbers (offset, delta, decimals), in published units: degC, %RH, hPa. */
export interface PerQuantity {
  temperature: number;
  humidity: number;
  pressure: number;
}

export interface SensorConfig {
  type: SensorType;
  /** Unique among sensors; names the topic level when there are several sensors. */
  name: string;
  /** I2C address (BME280/BMP280), 0x76 or 0x77. */
  address: number;
  /** DHT22 data pin (GPIO), -1 for I2C parts. */
  pin: number;
  /** I2C pins (GPIO), -1 for DHT22. */
  sda: number;
  scl: number;
  intervalSeconds: number;
  /** Moving average over this many readings (1 = none). */
  average: number;
  /** Publish at least this often even without change; 0 = only on change. */
  heartbeatSeconds: number;
  offset: PerQuantity;
  /** Publish only when the value moved at least this much since the last publish; 0 = every reading. */
  delta: PerQuantity;
  decimals: PerQuantity;
}

export interface InterlockConfig {
  name: string;
  pin: number;
  /** Level (0/1) at which the interlock is active (pump must stay off). */
  activeLevel: number;
  /** Internal pull resistor: "up", "down" or "none". */
  pull: string;
}

export interface PumpConfig {
  pin: number;
  activeLow: boolean;
  maxRunSeconds: number;
  minOffSeconds: number;
  linkLostOffSeconds: number;
  interlocks: InterlockConfig[];
  /** At most maxRunSeconds of running in any windowMinutes; null = no cap. */
  dutyCycle: { maxRunSeconds: number; windowMinutes: number } | null;
  /** Stop when this sensor has given no valid reading for maxAgeSeconds; null = no dependency. */
  requires: { sensor: string; maxAgeSeconds: number } | null;
}

export interface Config {
  board: string;
  /** The board's human name (Home Assistant's device model), so the firmware needs no board table after boot. */
  boardName: string;
  wifi: { ssid: string; password: string } | null;
  mqtt: {
    host: string;
    port: number;
    username: string;
    password: string;
    tls: boolean;
    keepaliveSeconds: number;
  };
  device: { id: string; name: string; prefix: string };
  sensors: SensorConfig[];
  pump: PumpConfig | null;
  homeassistant: { discovery: boolean; prefix: string };
}

export interface ConfigResult {
  /** The config with every default filled in; null when there was any error. */
  config: Config | null;
  errors: string[];
  /**
   * The relay pin (GPIO) and polarity whenever the raw config names them validly, even when other fields
   * are wrong: the firmware holds that pin at its OFF level while it refuses to start.
   */
  relay: { pin: number; activeLow: boolean } | null;
}

/**
 * Validate a parsed config.json and fill in defaults.
 * @param raw what JSON.parse gave (any type: a string or an array is reported, not thrown)
 * @param runningBoard process.env.BOARD on a device, to refuse a config written for another board
 */
export function validateConfig(raw: any, runningBoard?: string): ConfigResult {
  // Everything below is nested on purpose: on the device this runs once at boot, and nested functions are
  // garbage-collected after it returns, where module-level ones would cost JsVars forever (ARCHITECTURE.md).
  // Character sets of names, checked by charsOk: the characters allowed besides a-z, 0-9 and "_", where
  // "A" stands for A-Z. Code rather than RegExps: the first RegExp a program makes brings Espruino's RegExp
  // class into RAM for good (~8 JsVars), and a module-level one costs ~10 more. Lengths and the shape of
  // topic prefixes are checked in Checker.match.
  var ID_CHARS = "A-";
  var NAME_CHARS = "";
  var PREFIX_CHARS = "A/-";
  var HOST_CHARS = "A.:-";

  /** Whether v (a string) has only a-z, 0-9, "_" and the characters of set ("A": A-Z). */
  function charsOk(v: string, set: string): boolean {
    var upper = set.indexOf("A") >= 0;
    for (var i = 0; i < v.length; i++) {
      var ch = v[i];
      if (!((ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") || ch === "_" || (upper && ch >= "A" && ch <= "Z") || set.indexOf(ch) >= 0)) return false;
    }
    return true;
  }

  /** Describe a received value for an error message, shortly and without leaking long strings. */
  function describe(v: any): string {
    if (v === undefined) return "nothing";
    var s: string;
    try {
      s = JSON.stringify(v);
    } catch (e) {
      s = String(v);
    }
    if (s === undefined) s = typeof v;
    return s.length > 40 ? s.substr(0, 37) + "..." : s;
  }

  /*
   * One validator pass over one raw object. Methods return the value or its default; on a wrong value they
   * record the error and return the default so the pass goes on and reports every wrong field at once.
   */
  class Checker {
    errors: string[] = [];
    /** Paths of objects already reported as wrong: their fields are not reported again. */
    bad = " ";

    fail(path: string, expected: string, got: any): void {
      var dot = path.indexOf(".") < 0 ? path.length : path.lastIndexOf(".");
      for (var p = path.substr(0, dot); p; p = p.substr(0, Math.max(p.lastIndexOf("."), 0))) {
        if (this.bad.indexOf(" " + p + " ") >= 0) return;
      }
      this.errors.push(path + " must be " + expected + ", got " + describe(got));
    }

    obj(path: string, v: any, keys: string, required: boolean): any {
      if (v === undefined && !required) return {};
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        this.fail(path, "an object", v);
        this.bad += path + " ";
        return {};
      }
      for (var k in v) {
        if ((" " + keys + " ").indexOf(" " + k + " ") < 0) this.errors.push(path + (path ? "." : "") + k + " is not a known setting (known: " + keys + ")");
      }
      return v;
    }

    num(path: string, v: any, min: number, max: number, dflt: number, integer: boolean): number {
      if (v === undefined && dflt === dflt) return dflt;
      if (typeof v !== "number" || v !== v || v < min || v > max || (integer && Math.floor(v) !== v)) {
        this.fail(path, (integer ? "a whole number" : "a number") + " between " + min + " and " + max, v);
        return dflt;
      }
      return v;
    }

    str(path: string, v: any, minLen: number, maxLen: number, dflt: string | null): string {
      if (v === undefined && dflt !== null) return dflt;
      if (typeof v !== "string" || v.length < minLen || v.length > maxLen) {
        this.fail(path, minLen > 0 ? "a string of " + minLen + " to " + maxLen + " characters" : "a string of at most " + maxLen + " characters", v);
        return dflt || "";
      }
      return v;
    }

    /** A string of 1..maxLen characters of set (charsOk); "/" (topic prefixes) may not lead, trail or double. */
    match(path: string, v: any, set: string, maxLen: number, expected: string, dflt: string | null): string {
      if (v === undefined && dflt !== null) return dflt;
      if (typeof v !== "string" || !v.length || v.length > maxLen || !charsOk(v, set) || v[0] === "/" || v[v.length - 1] === "/" || v.indexOf("//") >= 0) {
        this.fail(path, expected, v);
        return dflt || "";
      }
      return v;
    }

    bool(path: string, v: any, dflt: boolean): boolean {
      if (v === undefined) return dflt;
      if (v !== true && v !== false) {
        this.fail(path, "true or false", v);
        return dflt;
      }
      return v;
    }

    pin(path: string, v: any, board: BoardInfo | undefined, output: boolean, dflt: string | null): number {
      if (v === undefined && dflt !== null) v = dflt;
      if (!board) return -1;
      var n = resolvePin(board, v);
      if (n < 0 || (output ? board.outputs : board.inputs).indexOf(n) < 0) {
        this.fail(path, "a" + (output ? "n output" : "n input") + " pin of " + board.name + (n < 0 ? "" : " (GPIO" + n + " cannot be one)"), v);
        return -1;
      }
      return n;
    }

    perQuantity(path: string, v: any, min: number, max: number, dflt: number, integer: boolean): PerQuantity {
      var o = this.obj(path, v, "temperature humidity pressure", false);
      return {
        temperature: this.num(path + ".temperature", o.temperature, min, max, dflt, integer),
        humidity: this.num(path + ".humidity", o.humidity, min, max, dflt, integer),
        pressure: this.num(path + ".pressure", o.pressure, min, max, dflt, integer)
      };
    }
  }

  function sensorConfig(c: Checker, raw: any, path: string, board: BoardInfo | undefined): SensorConfig {
    var o = c.obj(path, raw, "type name address pin sda scl intervalSeconds average heartbeatSeconds offset delta decimals", true);
    var type = o.type;
    if (type !== "bme280" && type !== "bmp280" && type !== "dht22") {
      c.fail(path + ".type", "one of \"bme280\", \"bmp280\", \"dht22\"", type);
      type = "bme280";
    }
    var i2c = type !== "dht22";
    var address = -1;
    if (i2c) {
      address = c.num(path + ".address", o.address, 0x76, 0x77, 0x76, true);
      if (o.pin !== undefined) c.errors.push(path + ".pin is for DHT22; " + type + " is on I2C (use sda/scl)");
    } else {
      if (o.address !== undefined) c.errors.push(path + ".address is for I2C parts; dht22 uses pin");
      if (o.sda !== undefined || o.scl !== undefined) c.errors.push(path + ".sda/scl are for I2C parts; dht22 uses pin");
    }
    return {
      type: type,
      name: c.match(path + ".name", o.name, NAME_CHARS, 24, "1 to 24 of a-z, 0-9, _", type),
      address: address,
      pin: i2c ? -1 : c.pin(path + ".pin", o.pin, board, false, null),
      sda: i2c ? c.pin(path + ".sda", o.sda, board, false, board ? board.i2c.sda : null) : -1,
      scl: i2c ? c.pin(path + ".scl", o.scl, board, false, board ? board.i2c.scl : null) : -1,
      // DHT22: one conversion per 2 s at most (datasheet section 7, "collecting period").
      intervalSeconds: c.num(path + ".intervalSeconds", o.intervalSeconds, i2c ? 1 : 2, 86400, 30, false),
      average: c.num(path + ".average", o.average, 1, 16, 1, true),
      heartbeatSeconds: c.num(path + ".heartbeatSeconds", o.heartbeatSeconds, 0, 86400, 300, false),
      offset: c.perQuantity(path + ".offset", o.offset, -100, 100, 0, false),
      delta: c.perQuantity(path + ".delta", o.delta, 0, 1000, 0, false),
      decimals: c.perQuantity(path + ".decimals", o.decimals, 0, 3, 1, true)
    };
  }

  function pumpConfig(c: Checker, raw: any, board: BoardInfo | undefined, sensors: SensorConfig[]): PumpConfig {
    var o = c.obj("pump", raw, "pin activeLow maxRunSeconds minOffSeconds linkLostOffSeconds interlocks dutyCycle requires", true);
    var interlocks: InterlockConfig[] = [];
    var list = o.interlocks === undefined ? [] : o.interlocks;
    if (!Array.isArray(list) || list.length > 4) {
      c.fail("pump.interlocks", "a list of at most 4 interlocks", list);
      list = [];
    }
    for (var i = 0; i < list.length; i++) {
      var p = "pump.interlocks[" + i + "]";
      var lo = c.obj(p, list[i], "name pin activeLevel pull", true);
      var il: InterlockConfig = {
        name: c.match(p + ".name", lo.name, NAME_CHARS, 24, "1 to 24 of a-z, 0-9, _", null),
        pin: c.pin(p + ".pin", lo.pin, board, false, null),
        activeLevel: c.num(p + ".activeLevel", lo.activeLevel, 0, 1, 1, true),
        pull: lo.pull === undefined ? "none" : lo.pull
      };
      if (il.pull !== "up" && il.pull !== "down" && il.pull !== "none") {
        c.fail(p + ".pull", "\"up\", \"down\" or \"none\"", lo.pull);
        il.pull = "none";
      }
      for (var j = 0; j < interlocks.length; j++) {
        if (interlocks[j].name === il.name) c.errors.push(p + ".name \"" + il.name + "\" is used twice");
      }
      interlocks.push(il);
    }
    var duty = null;
    if (o.dutyCycle !== undefined) {
      var d = c.obj("pump.dutyCycle", o.dutyCycle, "maxRunSeconds windowMinutes", true);
      duty = {
        maxRunSeconds: c.num("pump.dutyCycle.maxRunSeconds", d.maxRunSeconds, 1, 86400, NaN, false),
        windowMinutes: c.num("pump.dutyCycle.windowMinutes", d.windowMinutes, 1, 1440, NaN, false)
      };
      if (duty.maxRunSeconds > duty.windowMinutes * 60) c.errors.push("pump.dutyCycle.maxRunSeconds must not exceed the window (" + duty.windowMinutes * 60 + " s)");
    }
    var requires = null;
    if (o.requires !== undefined) {
      var r = c.obj("pump.requires", o.requires, "sensor maxAgeSeconds", true);
      var found = false;
      for (var k = 0; k < sensors.length; k++) if (sensors[k].name === r.sensor) found = true;
      if (!found) c.fail("pump.requires.sensor", "the name of a configured sensor", r.sensor);
      requires = { sensor: String(r.sensor), maxAgeSeconds: c.num("pump.requires.maxAgeSeconds", r.maxAgeSeconds, 10, 86400, NaN, false) };
    }
    var pump: PumpConfig = {
      pin: c.pin("pump.pin", o.pin, board, true, null),
      activeLow: c.bool("pump.activeLow", o.activeLow, false),
      maxRunSeconds: c.num("pump.maxRunSeconds", o.maxRunSeconds, 1, 86400, NaN, false),
      minOffSeconds: c.num("pump.minOffSeconds", o.minOffSeconds, 0, 86400, 30, false),
      linkLostOffSeconds: c.num("pump.linkLostOffSeconds", o.linkLostOffSeconds, 0, 3600, 30, false),
      interlocks: interlocks,
      dutyCycle: duty,
      requires: requires
    };
    for (var m = 0; m < interlocks.length; m++) {
      if (interlocks[m].pin >= 0 && interlocks[m].pin === pump.pin) c.errors.push("pump.interlocks[" + m + "].pin is the relay pin");
    }
    return pump;
  }

  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { config: null, errors: ["config must be a JSON object, got " + describe(raw)], relay: null };
  var c = new Checker();
  var o = c.obj("", raw, "board wifi mqtt device sensors pump homeassistant", true);
  var board = boardInfo(o.board);
  if (!board) c.fail("board", "one of " + BOARD_IDS, o.board);
  // A custom build of a board family ("LINUX1600": the Linux build with the ESP8266's 1600 JsVars) counts.
  else if (runningBoard && runningBoard.indexOf(board.espruino) !== 0) c.errors.push("board is \"" + board.id + "\" (Espruino " + board.espruino + ") but this device runs " + runningBoard);

  var wifi = null;
  if (!board || board.wifi) {
    var w = c.obj("wifi", o.wifi, "ssid password", true);
    wifi = { ssid: c.str("wifi.ssid", w.ssid, 1, 32, null), password: c.str("wifi.password", w.password, 0, 64, "") };
  } else if (o.wifi !== undefined) {
    c.errors.push("wifi is not used on board " + board.id + " (its network is already up): remove it");
  }

  var m = c.obj("mqtt", o.mqtt, "host port username password tls keepaliveSeconds", true);
  var tls = c.bool("mqtt.tls", m.tls, false);
  if (tls && board && !board.tls) c.errors.push("mqtt.tls is not available on " + board.name + " (Espruino's " + board.espruino + " build has no TLS): use a board with TLS or a trusted network");
  var mqtt = {
    host: c.match("mqtt.host", m.host, HOST_CHARS, 253, "a host name or IP address", null),
    port: c.num("mqtt.port", m.port, 1, 65535, tls ? 8883 : 1883, true),
    username: c.str("mqtt.username", m.username, 0, 64, ""),
    password: c.str("mqtt.password", m.password, 0, 64, ""),
    tls: tls,
    keepaliveSeconds: c.num("mqtt.keepaliveSeconds", m.keepaliveSeconds, 5, 3600, 30, true)
  };
  if (mqtt.password && !mqtt.username) c.errors.push("mqtt.password is set but mqtt.username is not (MQTT 3.1.1 section 3.1.2.9)");

  var d = c.obj("device", o.device, "id name prefix", true);
  var id = c.match("device.id", d.id, ID_CHARS, 32, "1 to 32 of A-Z, a-z, 0-9, _, -", null);
  var device = {
    id: id,
    name: c.str("device.name", d.name, 1, 64, id),
    prefix: c.match("device.prefix", d.prefix, PREFIX_CHARS, 64, "at most 64 characters of topic levels of A-Z, a-z, 0-9, _, - joined by /", "home")
  };

  var sensors: SensorConfig[] = [];
  var list = o.sensors === undefined ? [] : o.sensors;
  if (!Array.isArray(list) || list.length > 4) {
    c.fail("sensors", "a list of at most 4 sensors", list);
    list = [];
  }
  for (var i = 0; i < list.length; i++) {
    var s = sensorConfig(c, list[i], "sensors[" + i + "]", board);
    for (var j = 0; j < sensors.length; j++) {
      if (sensors[j].name === s.name) c.errors.push("sensors[" + i + "].name \"" + s.name + "\" is used twice: give each sensor its own name");
      if (s.type !== "dht22" && sensors[j].type !== "dht22" && sensors[j].address === s.address && sensors[j].sda === s.sda) c.errors.push("sensors[" + i + "].address " + s.address + " is used twice on the same I2C bus");
    }
    sensors.push(s);
  }

  var pump = o.pump === undefined || o.pump === null ? null : pumpConfig(c, o.pump, board, sensors);
  if (pump) {
    for (var k = 0; k < sensors.length; k++) {
      var sk = sensors[k];
      if (pump.pin >= 0 && (sk.pin === pump.pin || sk.sda === pump.pin || sk.scl === pump.pin)) c.errors.push("pump.pin is also used by sensors[" + k + "]");
    }
  }

  var h = c.obj("homeassistant", o.homeassistant, "discovery prefix", false);
  var ha = {
    discovery: c.bool("homeassistant.discovery", h.discovery, true),
    prefix: c.match("homeassistant.prefix", h.prefix, PREFIX_CHARS, 64, "at most 64 characters of topic levels of A-Z, a-z, 0-9, _, - joined by /", "homeassistant")
  };

  var relay = null;
  var rp = o.pump && typeof o.pump === "object" ? o.pump : null;
  // Only on the board the config was written for: on another board that GPIO may be something else.
  var boardOk = board && (!runningBoard || runningBoard.indexOf(board.espruino) === 0);
  if (board && boardOk && rp && (rp.activeLow === undefined || rp.activeLow === true || rp.activeLow === false)) {
    // A scratch Checker (its errors are already in c's): resolvePin then has one caller, which the
    // minifier inlines, so no module-level function of the board tables outlives boot.
    var rpin = new Checker().pin("pump.pin", rp.pin, board, true, null);
    if (rpin >= 0) relay = { pin: rpin, activeLow: rp.activeLow === true };
  }
  if (c.errors.length) return { config: null, errors: c.errors, relay: relay };
  return {
    config: { board: board!.id, boardName: board!.name, wifi: wifi, mqtt: mqtt, device: device, sensors: sensors, pump: pump, homeassistant: ha },
    errors: [],
    relay: relay
  };
}
