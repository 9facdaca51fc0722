/*
 * Memory of the node's own modules on a real Espruino: firmware/main.ts's wiring (relay pin, clock,
 * connector and link, interlock inputs, I2C register access, sensor factory, NodeApp with publishing and
 * discovery, watchdog, kill hook) with stand-ins for the MQTT client, the pump and the sensor driver
 * (bench/mem/node-harness.ts), driven by the harness's script. Config: the README's reference node
 * (BME280 + pump + two interlocks + discovery), read from Storage like the firmware does.
 *   ESPRUINO_BIN=/work/espruino/bin/espruino1600 npx tsx bench/memory.ts entry bench/mem/node.ts bench/mem/node-config.json
 * The node's cost is this run's steady state minus bench/mem/node-base.ts's (same stand-ins, no node).
 * Measured on espruino1600 (2v29, 12-byte JsVars): node.ts steady 503, node-base.ts 392: 111 JsVars for
 * main + platform + node + publisher + discovery, Espruino's own socket record excluded (about 35, held
 * for the client). Before the node became one function with its state in few fields (d893099): 561, so
 * 169. The same wiring before the first rewrite (a2a2117) ran out of memory even on the 2047-JsVar build
 * (steady 1970 there, base 700).
 */
import { validateConfig } from "../../firmware/config";
import { DeviceClock, netConnector, relayPin, DeviceInputPin, i2cBus, I2CRegisterIO, startWatchdog, onKill } from "../../firmware/platform";
import { NodeApp } from "../../firmware/node/node";
import type { Clock, InputPin, Sensor } from "../../firmware/types";
import { StubClient, StubPump, stubSensor, drive } from "./node-harness";

/* main.ts's makeSensor, with the stand-in driver holding the register access a BME280 would hold. */
function makeSensor(this: { sda: number; scl: number; address: number; clock: Clock }): Sensor {
  return /*@__NOINLINE__*/ stubSensor(this.clock, /*@__INLINE__*/ I2CRegisterIO(i2cBus(this.sda, this.scl), this.address));
}

function boot(): void {
  var result = validateConfig(require("Storage").readJSON("config.json", true), "LINUX");
  var cfg = result.config!;
  var relay = relayPin(result.relay!.pin, result.relay!.activeLow ? 1 : 0);
  var clock = /*@__INLINE__*/ DeviceClock();
  var sensors: (() => Sensor)[] = [];
  for (var s = 0; s < cfg.sensors.length; s++) {
    var sc = cfg.sensors[s];
    sensors.push(makeSensor.bind({ sda: sc.sda, scl: sc.scl, address: sc.address, clock: clock }));
  }
  var m = cfg.mqtt;
  var connector = /*@__INLINE__*/ netConnector(m.host, m.port, m.tls);
  var client: StubClient | null = null;
  var node = /*@__INLINE__*/ NodeApp(cfg, {
    clock: clock,
    storage: require("Storage"),
    model: cfg.boardName,
    log: console.log,
    sensors: sensors,
    mqtt: function (willTopic: string) {
      return (client = new StubClient(connector, willTopic));
    }
  });
  var inputs: InputPin[] = [];
  for (var k = 0; k < cfg.pump!.interlocks.length; k++) inputs.push(/*@__INLINE__*/ DeviceInputPin(cfg.pump!.interlocks[k].pin, cfg.pump!.interlocks[k].pull));
  node.pump = new StubPump(node, inputs);
  (E as any).relay = relay; // the real pump would hold it
  client!.start();
  if (!startWatchdog(30)) console.log("watchdog: not available on this build");
  onKill(node);
  /*@__NOINLINE__*/ drive(client!, node.base);
}

/*@__NOINLINE__*/ boot();
