/*
 * Codec benchmark (npm run bench): encode+decode throughput of our MQTT codec against mqtt-packet in the
 * same run, and bytes on the wire for a CONNECT with Will and a typical sensor PUBLISH against the protocol
 * minimum. Prints figures; asserts nothing about time. Runs the TypeScript sources on Node (V8), so it
 * compares algorithms on the host, not Espruino speed.
 */
import mqttPacket from "mqtt-packet";
import { feed, type Framer } from "../firmware/mqtt/parser";
import { readU16 } from "../firmware/mqtt/packet";
import type { MqttOptions } from "../firmware/mqtt/client";
import { encodePublish, clientConnect } from "../test/helpers/mqttpackets";

const TOPIC = "home/pumpnode-1a2b3c/temperature";
const PAYLOAD = "21.5";
const WILL_OPTIONS: MqttOptions = {
  clientId: "pumpnode-1a2b3c", username: "ha", password: "secret", keepaliveSeconds: 30, cleanSession: true,
  will: { topic: "home/pumpnode-1a2b3c/status", payload: "offline", qos: 1, retain: true }
};

/* Decode like the client's PUBLISH handler does: topic and payload strings out of the body. */
class Sink implements Framer {
  _pn = 0;
  _pb?: string;
  _pmax = 1 << 20;
  n = 0;
  last = "";
  _on(h: number, b?: string) {
    if (h < 16) throw new Error(b);
    const body = b as string;
    const tl = readU16(body, 0);
    const qos = (h >> 1) & 3;
    this.last = body.substring(2, 2 + tl) + body.substring(2 + tl + (qos ? 2 : 0));
    this.n++;
  }
}

function timeIt(fn: (n: number) => void, n: number): number {
  fn(Math.min(n, 2000)); // warm up
  const t0 = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function ours(n: number) {
  const sink = new Sink();
  for (let i = 0; i < n; i++) feed(sink, encodePublish(TOPIC, PAYLOAD + (i & 7), i & 1, false, false, (i % 65535) + 1));
  if (sink.n !== n) throw new Error("ours parsed " + sink.n + " of " + n);
}

function theirs(n: number) {
  let got = 0;
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", () => got++);
  for (let i = 0; i < n; i++) parser.parse(mqttPacket.generate({ cmd: "publish", topic: TOPIC, payload: PAYLOAD + (i & 7), qos: (i & 1) as 0 | 1, retain: false, dup: false, messageId: (i % 65535) + 1 }));
  if (got !== n) throw new Error("mqtt-packet parsed " + got + " of " + n);
}

const N = 200000;
const tOurs = timeIt(ours, N);
const tTheirs = timeIt(theirs, N);
console.log("PUBLISH encode+decode, " + N + " packets (" + TOPIC + " = " + PAYLOAD + "x, QoS 0/1 alternating):");
console.log("  ours (byte strings)  " + (tOurs / N * 1e3).toFixed(3) + " us/packet, " + Math.round(N / tOurs * 1000) + " packets/s");
console.log("  mqtt-packet (Buffer) " + (tTheirs / N * 1e3).toFixed(3) + " us/packet, " + Math.round(N / tTheirs * 1000) + " packets/s");
console.log("  ratio ours/mqtt-packet throughput: " + (tTheirs / tOurs).toFixed(2) + "x");

function rlBytes(n: number) {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}
/* Protocol minimum: fixed header + shortest remaining length + mandatory fields, each string with its 2-byte length. */
function minConnect(o: MqttOptions) {
  let body = 10 + 2 + o.clientId.length;
  if (o.will) body += 2 + o.will.topic.length + 2 + o.will.payload.length;
  if (o.username) body += 2 + o.username.length;
  if (o.password) body += 2 + o.password.length;
  return 1 + rlBytes(body) + body;
}
function minPublish(topic: string, payload: string, qos: number) {
  const body = 2 + topic.length + (qos ? 2 : 0) + payload.length;
  return 1 + rlBytes(body) + body;
}
const connect = clientConnect(WILL_OPTIONS);
const mpConnect = mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: WILL_OPTIONS.clientId, clean: true, keepalive: 30, username: "ha", password: Buffer.from("secret"), will: { topic: WILL_OPTIONS.will!.topic, payload: Buffer.from("offline"), qos: 1, retain: true } });
console.log("\nBytes on the wire (ours / protocol minimum / mqtt-packet):");
console.log("  CONNECT with Will, user, password: " + connect.length + " / " + minConnect(WILL_OPTIONS) + " / " + mpConnect.length);
for (const qos of [0, 1]) {
  const pub = encodePublish(TOPIC, PAYLOAD, qos, false, false, 1);
  const mp = mqttPacket.generate({ cmd: "publish", topic: TOPIC, payload: PAYLOAD, qos: qos as 0 | 1, retain: false, dup: false, messageId: 1 });
  console.log("  PUBLISH " + TOPIC + " = " + PAYLOAD + " QoS " + qos + ": " + pub.length + " / " + minPublish(TOPIC, PAYLOAD, qos) + " / " + mp.length);
}
console.log("  PINGREQ: 2 / 2");
