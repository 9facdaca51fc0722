/*
 * Issue 3's reference app (see mqtt-app.ts) over the smallest connector and clock that do the job, so that
 * what it measures beyond mqtt-app-raw.ts is our MQTT client's own cost:
 *   ESPRUINO_BIN=... npx tsx bench/memory.ts entry bench/mem/mqtt-app-bare.ts
 * Not a Connector for real use: the socket itself is the Link (close = end), so a close would still fire
 * onClose afterwards, which the Connector contract forbids; this app never closes its link. The clock
 * hands out Espruino's own timer functions: the client never clears a timer id that fired or is undefined.
 */
import { MqttClient } from "../../firmware/mqtt/client";
import { LINK_OPEN, LINK_DATA, LINK_CLOSE, type Clock, type Link, type LinkEvents } from "../../firmware/types";

declare function setInterval(fn: () => void, ms: number): any;
declare function setTimeout(fn: () => void, ms: number): any;
declare function clearTimeout(id: any): void;

var cfg = require("Storage").readJSON("config.json", true);
var clock: Clock = {
  now: function () {
    return getTime() * 1000;
  },
  setTimeout: setTimeout,
  clearTimeout: clearTimeout
};
var client = new MqttClient(
  function (ev: LinkEvents): Link {
    var s = require("net").connect({ host: cfg.host, port: cfg.port }, function () {
      ev._on(LINK_OPEN);
    });
    s.on("data", function (d: string) {
      ev._on(LINK_DATA, d);
    });
    s.on("close", function () {
      ev._on(LINK_CLOSE);
    });
    s.close = s.end;
    return s;
  },
  clock,
  { clientId: "memapp", username: "", password: "", keepaliveSeconds: 30, cleanSession: true, will: null }
);
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
