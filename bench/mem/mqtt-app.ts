/*
 * Issue 3's reference app for the memory benchmark, built on its own (bench/memory.ts mqtt-app): connect,
 * subscribe to one topic, publish a number every 200 ms through our client, over the firmware's own
 * DeviceClock and netConnector (firmware/platform.ts). Reads {host, port} from Storage config.json. Prints
 * "published N" every 50 publishes.
 * The same app with no client at all (MQTT written by hand on the socket, the floor): mqtt-app-raw.ts; what
 * this app measures beyond it is our client's cost with the firmware's clock and connector (which are
 * Espruino's global object and one bound function over a shared socket listener: no smaller connector and
 * clock are worth measuring apart any more).
 */
import { MqttClient } from "../../firmware/mqtt/client";
import { DeviceClock, netConnector } from "../../firmware/platform";

declare function setInterval(fn: () => void, ms: number): any;

var cfg = require("Storage").readJSON("config.json", true);
var client = new MqttClient(netConnector(cfg.host, cfg.port, false), new DeviceClock(), {
  clientId: "memapp", username: "", password: "", keepaliveSeconds: 30, cleanSession: true, will: null
});
var n = 0;
client.onConnect = function () {
  client.subscribe("memapp/in", 0);
};
client.onMessage = function (topic: string, payload: string) {
  console.log("got " + topic + " " + payload);
};
client.start();
setInterval(function () {
  if (client.connected) client.publish("memapp/value", String(n++), 0, false);
  if (n % 50 === 0 && n) console.log("published " + n);
}, 200);
