/*
 * Shared driver of the node memory entries (bench/mem/node.ts and its baseline bench/mem/node-base.ts).
 * node.ts wires the node as firmware/main.ts does (platform.ts, node/*.ts, main's sensor factory) but
 * with stand-ins for the parts that are measured on their own: the MQTT client, the pump and the sensor
 * driver. node-base.ts builds the same stand-ins (and the filter chains the node would build) without
 * the node. node.ts minus node-base.ts is what main + platform + node + publisher + discovery cost.
 *
 * The stand-ins are as small as they can be and play a fixed script, one step per 250 ms, looping every
 * 10 s: pump/set ON and OFF (the pump reports each change and refusal), an interlock edge, Home
 * Assistant's "online" (a discovery round 1-5 s later), a lost link and a reconnect (another round).
 * StubClient opens its link through the connector it is given (node.ts: the real netConnector to the
 * bench's Mosquitto, sending a bare CONNECT so the broker keeps the socket) but publishes nothing: each
 * publish() is counted and accepted.
 *
 * What any MQTT client would hold whoever wires it is in both runs, so that it is not counted as the
 * node's: node-base.ts opens the same socket with Espruino's net (rawSocket), and both runs build one
 * stubEvents object (the LinkEvents a client gives its connector). The pump polls its interlocks (no pin
 * watch on either side). What remains in the difference is the node's own: the Link's fields and its
 * shared listener, the interlock Pin objects, and so on.
 */
import { LINK_OPEN, LINK_CLOSE, type Clock, type Connector, type InputPin, type Link, type Sample, type SampleCallback, type Sensor } from "../../firmware/types";
import { P_ATTRIBUTES, P_COMMAND, type PumpEvents } from "../../firmware/pump/pump";

declare function setInterval(fn: () => void, ms: number): any;
declare function setTimeout(fn: () => void, ms: number): any;

/* CONNECT, MQTT 3.1.1, clean session, keepalive 0 (the broker never times it out), client id "nodebench". */
var CONNECT = "\x10\x15\x00\x04MQTT\x04\x02\x00\x00\x00\x09nodebench";

export class StubClient {
  connected = false;
  publishes = 0;
  _rx = 0;
  onConnect: (sessionPresent: boolean) => void;
  onClose: (reason: string) => void;
  onMessage: (topic: string, payload: string, retained: boolean, qos: number, dup: boolean) => void;
  onError: (message: string) => void;
  will: string;
  link: Link | null = null;
  connector: Connector | null;

  constructor(connector: Connector | null, will: string) {
    this.connector = connector;
    this.will = will;
    this.onConnect = this.onClose = this.onMessage = this.onError = function () {};
  }
  publish(topic: string, payload: string, qos: number, retain: boolean): boolean {
    this.publishes++;
    return true;
  }
  subscribe(topic: string, qos: number): void {}
  start(): void {
    if (!this.connector) return this.up();
    this.link = this.connector(stubEvents(this));
  }
  end(): void {}
  up(): void {
    this.connected = true;
    this.onConnect(false);
  }
  down(): void {
    this.connected = false;
    this.onClose("bench");
  }
}

/** The LinkEvents a client gives its connector (its one entry point): CONNECT on open, then the client is up. */
export function stubEvents(client: StubClient) {
  return {
    _on: function (code: number, s?: string) {
      if (code === LINK_OPEN) {
        client.link!.write(CONNECT);
        client.up();
      } else if (code === LINK_CLOSE) console.log("link closed: " + s);
    }
  };
}

function noop(): void {}

/* The socket's connect listener in node-base.ts: `this` is the socket. */
function rawOpen(this: any): void {
  this.write(CONNECT);
}

/** node-base.ts: the socket a client would hold, from Espruino's net, with a listener per event. */
export function rawSocket(host: string, port: number): any {
  var sock = require("net").connect({ host: host, port: port }, rawOpen);
  sock.on("data", noop);
  sock.on("error", noop);
  sock.on("close", noop);
  return sock;
}

/** The pump's surface as the node sees it (one io(kind, ...) function); holds the interlock inputs like
 * the real one, which polls them (no watch). */
export class StubPump {
  on = false;
  events: PumpEvents;
  inputs: InputPin[];
  constructor(events: PumpEvents, inputs: InputPin[]) {
    this.events = events;
    this.inputs = inputs;
    setTimeout(function () {
      events.onChange(false, "boot");
      events.onInterlock("tank_full", false);
      events.onInterlock("people_present", false);
    }, 0);
  }
  io(kind: number, payload?: any): any {
    if (kind === P_ATTRIBUTES) return '{"reason":"command"}';
    if (kind !== P_COMMAND) return;
    var on = payload === "ON";
    if (on === this.on) return this.events.onRefused("already " + payload);
    this.on = on;
    this.events.onChange(on, "command");
  }
}

/** A sensor that answers every sample() 20 ms later with the same reading; `hold` keeps what it is given. */
export function stubSensor(clock: Clock, hold: any): Sensor {
  var s: Sample = { temperature: 22.5, humidity: 48, pressure: 100800 };
  var pending: SampleCallback | null = null;
  function answer(): void {
    var cb = pending;
    pending = null;
    if (cb) cb(null, s);
  }
  return {
    sample: function (cb: SampleCallback) {
      pending = cb;
      clock.setTimeout(answer, 20);
    },
    close: function () {
      hold = null;
    }
  };
}

/*
 * The script, one step per 250 ms: "on"/"off" (pump/set), "ha" (Home Assistant online), "down"/"up"
 * (link lost, back). Looping every 40 steps (10 s).
 */
var SCRIPT = "||||on||||off||||ha||||||||||||||||down||up|||||||";

export function drive(client: StubClient, base: string): void {
  var at = 0;
  var loops = 0;
  setInterval(function () {
    var end = SCRIPT.indexOf("|", at);
    var step = SCRIPT.substring(at, end);
    at = end + 1;
    if (at >= SCRIPT.length) {
      at = 0;
      console.log("loop " + ++loops + ": " + client.publishes + " publishes");
    }
    if (step === "on" || step === "off") client.onMessage(base + "pump/set", step.toUpperCase(), false, 1, false);
    else if (step === "ha") client.onMessage("homeassistant/status", "online", false, 1, false);
    else if (step === "down") client.down();
    else if (step === "up") client.up();
  }, 250);
}
