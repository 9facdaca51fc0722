/*
 * Boot and wiring: read config.json from Storage, validate it, then build the node from Espruino's
 * globals (through platform.ts) in a safe order:
 *   1. the relay pin driven to its OFF level (glitch-free: platform.ts relayPin);
 *   2. the node (sensor timers, discovery bookkeeping) with the MQTT client and its Will, then the Pump,
 *      which owns the relay from then on;
 *   3. the network: Wifi on ESP boards, then MQTT once Wifi is up (at once on Linux);
 *   4. the watchdog, and E.on("kill") for a graceful shutdown (pump off, "offline", DISCONNECT).
 * A missing or invalid config is printed field by field; the node then stays off the network with the
 * relay held at its OFF level when the raw config names a usable pin and polarity. No crash either way.
 * Console lines never contain a password.
 *
 * Memory: boot() runs once and everything it holds is garbage afterwards (the raw and validated config,
 * the validator and its board tables, the factories of platform.ts and node.ts, which are called here once
 * with INLINE), as long as no function made inside it survives it: a closure keeps its whole scope. So
 * what must outlive boot is a bound function (connector, sensor factories) or is made by a
 * module-level function called with NOINLINE (Wifi), whose scope is small.
 */
import { validateConfig } from "./config";
import { DeviceClock, netConnector, startWifi, relayPin, DeviceInputPin, i2cBus, I2CRegisterIO, dhtPins, startWatchdog, onKill } from "./platform";
import { NodeApp } from "./node/node";
import { Pump } from "./pump/pump";
import { MqttClient } from "./mqtt/client";
import { createBoschSensor } from "./sensors/bosch";
import { createDHT22 } from "./sensors/dht22";
import { OFFLINE } from "./constants";
import type { Clock, InputPin, OutputPin, Sensor } from "./types";

/** Hardware watchdog period (kicked by Espruino's idle loop). */
const WATCHDOG_SECONDS = 30;

/** What makeSensor needs of a SensorConfig (the rest of it is not kept). */
interface SensorWiring {
  type: string;
  pin: number;
  sda: number;
  scl: number;
  address: number;
  clock: Clock;
}

/*
 * Build one sensor's driver. The node calls it through a bound copy at each interval until it works, then
 * drops it. Module-level with no parameter on purpose: the minifier inlines the drivers' factories here,
 * so their closures keep this function's scope alive; it must not hold the config (bound `this` is not
 * part of a scope).
 */
function makeSensor(this: SensorWiring): Sensor {
  if (this.type === "dht22") return createDHT22({ pin: this.pin, pins: dhtPins(), clock: this.clock });
  var io = /*@__INLINE__*/ I2CRegisterIO(i2cBus(this.sda, this.scl), this.address);
  return createBoschSensor(this.type as "bme280" | "bmp280", { io: io, clock: this.clock, address: this.address });
}

function boot(): void {
  var log = console.log;
  var raw: any;
  try {
    raw = require("Storage").readJSON("config.json", true);
  } catch (e) {
    raw = undefined;
  }
  if (raw === undefined) {
    log("config.json: missing or not valid JSON; upload one with flash.sh. Pump held off.");
    return;
  }
  // LINUX1600 / LINUX2047: Espruino's Linux build with the ESP8266's fixed JsVar count, used to measure
  // memory; it is the Linux board as far as the config is concerned.
  var running = process.env.BOARD;
  if (running && running.indexOf("LINUX") === 0) running = "LINUX";
  // INLINE: validateConfig is a module-level function (~6 JsVars for good) unless it becomes part of boot.
  var result = /*@__INLINE__*/ validateConfig(raw, running);
  raw = undefined; // garbage from here on: a lower peak while the rest is built
  var cfg = result.config;

  // The relay first: OFF, even when the config is refused (if it names the pin and polarity clearly), so
  // a relay that was ON before a reset stays OFF.
  var relay: OutputPin | null = result.relay ? relayPin(result.relay.pin, result.relay.activeLow ? 1 : 0) : null;
  if (!cfg) {
    for (var i = 0; i < result.errors.length; i++) log("config.json: " + result.errors[i]);
    log("config.json: " + result.errors.length + " problem(s). Pump held off, network not started.");
    if (relay) log("config.json: pump pin GPIO" + result.relay!.pin + " held at its OFF level");
    return;
  }

  try {
    var clock = /*@__INLINE__*/ DeviceClock();
    log("config ok: " + cfg.device.id + " on " + cfg.boardName);
    var sensors: (() => Sensor)[] = [];
    for (var s = 0; s < cfg.sensors.length; s++) {
      var sc = cfg.sensors[s];
      sensors.push(makeSensor.bind({ type: sc.type, pin: sc.pin, sda: sc.sda, scl: sc.scl, address: sc.address, clock: clock }));
    }
    var m = cfg.mqtt;
    var connector = /*@__INLINE__*/ netConnector(m.host, m.port, m.tls);
    var client: MqttClient | null = null;
    var node = /*@__INLINE__*/ NodeApp(cfg, {
      clock: clock,
      storage: require("Storage"),
      model: cfg.boardName,
      log: log,
      sensors: sensors,
      // Called once, inside the constructor: this closure (and boot's scope with it) is garbage afterwards.
      mqtt: function (willTopic: string) {
        return (client = new MqttClient(connector, clock, {
          clientId: cfg!.device.id,
          username: m.username,
          password: m.password,
          keepaliveSeconds: m.keepaliveSeconds,
          cleanSession: true,
          will: { topic: willTopic, payload: OFFLINE, qos: 1, retain: true }
        }));
      }
    });
    if (cfg.pump && relay) {
      var inputs: InputPin[] = [];
      for (var k = 0; k < cfg.pump.interlocks.length; k++) inputs.push(/*@__INLINE__*/ DeviceInputPin(cfg.pump.interlocks[k].pin, cfg.pump.interlocks[k].pull));
      node.pump = /*@__INLINE__*/ Pump(cfg.pump, relay, inputs, clock, node);
    }

    log("mqtt: connecting to " + m.host + ":" + m.port + (m.tls ? " (tls)" : ""));
    if (cfg.wifi) /*@__NOINLINE__*/ startWifi(cfg.wifi.ssid, cfg.wifi.password, client!);
    else client!.start();

    if (!startWatchdog(WATCHDOG_SECONDS)) log("watchdog: not available on this build");
    onKill(node);
  } catch (e: any) {
    log("boot: " + (e && e.message ? e.message : String(e)));
  }
}

// Called once: the minifier makes it a function run in place, which nothing references afterwards.
boot();
