/*
 * Boot and wiring: read config.json from Storage, validate it, then build the node from Espruino's
 * globals (through platform.ts) in a safe order:
 *   1. the relay pin driven to its OFF level, then the Pump (which owns it from then on);
 *   2. the node (topics, discovery bookkeeping), the MQTT client with its Will, the sensors;
 *   3. the network: Wifi on ESP boards, then MQTT once Wifi is up (at once on Linux);
 *   4. the watchdog, and E.on("kill") for a graceful shutdown (pump off, "offline", DISCONNECT).
 * A missing or invalid config is printed field by field; the node then stays off the network with the
 * relay held at its OFF level when the raw config names a usable pin and polarity. No crash either way.
 * Console lines never contain a password.
 */
import { validateConfig, type Config, type SensorConfig } from "./config";
import { boardInfo, resolvePin } from "../boards/index";
import { DeviceClock, netConnector, WifiStation, DeviceOutputPin, DeviceInputPin, i2cBus, I2CRegisterIO, DeviceDHTPins, startWatchdog, onKill } from "./platform";
import { NodeApp } from "./node/node";
import { Pump } from "./pump/pump";
import { MqttClient } from "./mqtt/client";
import { BME280 } from "./sensors/bme280";
import { BMP280 } from "./sensors/bmp280";
import { DHT22 } from "./sensors/dht22";
import { OFFLINE } from "./constants";
import type { Clock, InputPin, Sensor } from "./types";

/** Hardware watchdog period; the main tick kicks it every WATCHDOG_KICK_MS. */
const WATCHDOG_SECONDS = 30;
const WATCHDOG_KICK_MS = 5000;
/** First sensor read this long after boot, the next sensors staggered by SENSOR_STAGGER_MS. */
const SENSOR_FIRST_MS = 2000;
const SENSOR_STAGGER_MS = 700;

function log(line: string): void {
  console.log(line);
}

/*
 * Invalid config: drive the relay pin to OFF if the raw config says clearly which pin and polarity it is
 * (a board this device runs, an output pin of it, activeLow absent or a boolean), so a relay that was ON
 * before a reset stays OFF. Anything less clear is left alone rather than guessed.
 */
function holdRelayOff(raw: any): void {
  if (!raw || typeof raw !== "object" || !raw.pump || typeof raw.pump !== "object") return;
  var board = boardInfo(raw.board);
  if (!board || (process.env.BOARD && process.env.BOARD.indexOf(board.espruino) !== 0)) return;
  var pin = resolvePin(board, raw.pump.pin);
  var activeLow = raw.pump.activeLow;
  if (pin < 0 || board.outputs.indexOf(pin) < 0 || (activeLow !== undefined && activeLow !== true && activeLow !== false)) return;
  new DeviceOutputPin(pin).write(activeLow ? 1 : 0);
  log("config.json: pump pin GPIO" + pin + " held at its OFF level");
}

/* One driver factory per sensor, built once at boot; called again at each interval while it throws. */
function sensorFactory(sc: SensorConfig, clock: Clock, buses: any[]): () => Sensor {
  return function () {
    if (sc.type === "dht22") return new DHT22({ pin: sc.pin, pins: new DeviceDHTPins(), clock: clock });
    // Sensors on the same pins share one bus object.
    var bus = null;
    for (var i = 0; i < buses.length; i += 2) if (buses[i] === sc.sda * 100 + sc.scl) bus = buses[i + 1];
    if (!bus) {
      bus = i2cBus(sc.sda, sc.scl);
      buses.push(sc.sda * 100 + sc.scl, bus);
    }
    var io = new I2CRegisterIO(bus, sc.address);
    return sc.type === "bme280" ? new BME280({ io: io, clock: clock, address: sc.address }) : new BMP280({ io: io, clock: clock, address: sc.address });
  };
}

function run(cfg: Config): void {
  var board = boardInfo(cfg.board)!;
  var clock = new DeviceClock();
  var relay: DeviceOutputPin | null = null;
  if (cfg.pump) {
    relay = new DeviceOutputPin(cfg.pump.pin);
    relay.write(cfg.pump.activeLow ? 1 : 0);
  }
  log("config ok: " + cfg.device.id + " on " + board.name);

  var node = new NodeApp(cfg, clock, require("Storage"), Math.random, board.name, log);
  if (cfg.pump && relay) {
    var inputs: InputPin[] = [];
    for (var i = 0; i < cfg.pump.interlocks.length; i++) inputs.push(new DeviceInputPin(cfg.pump.interlocks[i].pin, cfg.pump.interlocks[i].pull));
    node.setPump(new Pump(cfg.pump, relay, inputs, clock, node));
  }

  var m = cfg.mqtt;
  var client = new MqttClient(netConnector(m.host, m.port, m.tls), clock, {
    clientId: cfg.device.id,
    username: m.username,
    password: m.password,
    keepaliveSeconds: m.keepaliveSeconds,
    cleanSession: true,
    will: { topic: node.pub.statusTopic, payload: OFFLINE, qos: 1, retain: true }
  });
  node.attach(client);

  var buses: any[] = [];
  for (var s = 0; s < cfg.sensors.length; s++) node.addSensor(sensorFactory(cfg.sensors[s], clock, buses), SENSOR_FIRST_MS + s * SENSOR_STAGGER_MS);

  var mqttTarget = "mqtt: connecting to " + m.host + ":" + m.port + (m.tls ? " (tls)" : "");
  if (board.wifi && cfg.wifi) {
    var wifi = new WifiStation(cfg.wifi.ssid, cfg.wifi.password);
    var started = false;
    wifi.onUp = function (ip: string) {
      log("wifi: connected " + ip);
      if (started) return;
      started = true;
      log(mqttTarget);
      client.start();
    };
    wifi.onDown = function (reason: string) {
      log("wifi: disconnected (" + reason + ")");
    };
    log("wifi: connecting to " + cfg.wifi.ssid);
    wifi.start();
  } else {
    log(mqttTarget);
    client.start();
  }

  if (!startWatchdog(WATCHDOG_SECONDS, WATCHDOG_KICK_MS)) log("watchdog: not available on this build");
  onKill(function () {
    node.shutdown();
  });
}

function boot(): void {
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
  var result = validateConfig(raw, running);
  if (!result.config) {
    for (var i = 0; i < result.errors.length; i++) log("config.json: " + result.errors[i]);
    log("config.json: " + result.errors.length + " problem(s). Pump held off, network not started.");
    holdRelayOff(raw);
    return;
  }
  try {
    run(result.config);
  } catch (e: any) {
    log("boot: " + (e && e.message ? e.message : String(e)));
  }
}

boot();
