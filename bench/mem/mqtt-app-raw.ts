/*
 * The floor for issue 3's reference app (see mqtt-app.ts): the same socket, subscription and publishes with
 * no MQTT client at all, the packets written by hand (CONNECT with client id "memapp", keepalive 30 s, no
 * PINGREQ, no reconnect). What mqtt-app.ts measures beyond this is our client's own cost:
 *   ESPRUINO_BIN=... npx tsx bench/memory.ts entry bench/mem/mqtt-app-raw.ts
 */
declare function setInterval(fn: () => void, ms: number): any;

var cfg = require("Storage").readJSON("config.json", true);
var n = 0;
var up = 0;
var sock = require("net").connect({ host: cfg.host, port: cfg.port }, function () {
  sock.write("\x10\x12\x00\x04MQTT\x04\x02\x00\x1e\x00\x06memapp");
});
sock.on("data", function (d: string) {
  // CONNACK (0x20) accepted: SUBSCRIBE id 1 to memapp/in at QoS 0; a PUBLISH (0x3x) is printed.
  if (d.charCodeAt(0) === 0x20 && !d.charCodeAt(3)) {
    up = 1;
    sock.write("\x82\x0e\x00\x01\x00\x09memapp/in\x00");
  } else if (d.charCodeAt(0) >> 4 === 3) {
    console.log("got " + d.substring(4, 4 + d.charCodeAt(3)) + " " + d.substring(4 + d.charCodeAt(3)));
  }
});
sock.on("close", function () {
  up = 0;
});
setInterval(function () {
  if (up) {
    var p = String(n++);
    sock.write("\x30" + String.fromCharCode(14 + p.length) + "\x00\x0cmemapp/value" + p);
  }
  if (n % 50 === 0 && n) console.log("published " + n);
}, 200);
