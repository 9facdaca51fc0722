/*
 * npm run sim -- [--broker mqtt://user:pass@host:port] [--id NAME] [--devices N] [--config FILE]
 *                [--board esp8266|d1mini|esp32|linux] [--duration SECONDS] [--trace] [--graceful]
 *
 * Runs dist/firmware.js on N simulated devices. Without --broker an embedded aedes broker listens on
 * 127.0.0.1 (first free port from 1883). Without --config a demo config is used (BME280, pump with the
 * tank_full and people_present interlocks). A live status per device is redrawn in place on a terminal,
 * plain log lines otherwise. Ctrl-C, SIGTERM or --duration end it; devices drop like a power cut (their
 * Will is published) unless --graceful.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { createRequire } from "node:module";
import { startDevice, type SimDevice } from "./api";

interface Args {
  broker?: string;
  id: string;
  devices: number;
  config?: string;
  board?: string;
  duration?: number;
  trace: boolean;
  graceful: boolean;
}

function usage(msg?: string): never {
  if (msg) console.error("sim: " + msg);
  console.error("usage: npm run sim -- [--broker mqtt://user:pass@host:port] [--id NAME] [--devices N] [--config FILE] [--board esp8266|d1mini|esp32|linux] [--duration SECONDS] [--trace] [--graceful]");
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { id: "simnode", devices: 1, trace: false, graceful: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) usage(k + " needs a value");
      return argv[++i];
    };
    if (k === "--broker") a.broker = v();
    else if (k === "--id") a.id = v();
    else if (k === "--devices") a.devices = Number(v());
    else if (k === "--config") a.config = v();
    else if (k === "--board") a.board = v();
    else if (k === "--duration") a.duration = Number(v());
    else if (k === "--trace") a.trace = true;
    else if (k === "--graceful") a.graceful = true;
    else if (k === "--help" || k === "-h") usage();
    else usage("unknown option " + k);
  }
  if (!(a.devices >= 1 && Math.floor(a.devices) === a.devices)) usage("--devices must be a whole number >= 1");
  if (a.duration !== undefined && !(a.duration > 0)) usage("--duration must be a number of seconds > 0");
  if (!/^[A-Za-z0-9_-]{1,26}$/.test(a.id)) usage("--id must be 1 to 26 of A-Z, a-z, 0-9, _, -");
  return a;
}

function demoConfig(board: string): any {
  const pins: Record<string, any> = {
    esp8266: { relay: "D5", a: "D6", b: "D7" },
    d1mini: { relay: "D5", a: "D6", b: "D7" },
    esp32: { relay: "D26", a: "D32", b: "D33" },
    linux: { relay: "D17", a: "D22", b: "D27" }
  };
  const p = pins[board] || pins.esp8266;
  return {
    board,
    ...(board === "linux" ? {} : { wifi: { ssid: "simlab", password: "simlab-password" } }),
    mqtt: { host: "127.0.0.1", port: 1883 },
    device: { id: "x", name: "Simulated pump node", prefix: "home" },
    sensors: [{ type: "bme280", name: "room", address: 0x76, intervalSeconds: 5 }],
    pump: {
      pin: p.relay,
      activeLow: false,
      maxRunSeconds: 300,
      minOffSeconds: 5,
      interlocks: [
        { name: "tank_full", pin: p.a, activeLevel: 1, pull: "down" },
        { name: "people_present", pin: p.b, activeLevel: 1, pull: "down" }
      ]
    }
  };
}

function firstFreePort(from: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", (e: any) => (e.code === "EADDRINUSE" && from < 65535 ? resolve(firstFreePort(from + 1)) : reject(e)));
    s.listen(from, "127.0.0.1", () => s.close(() => resolve(from)));
  });
}

async function embeddedBroker(trace: boolean): Promise<{ port: number; close: () => Promise<void> }> {
  const req = createRequire(import.meta.url);
  const aedesMod = req("aedes");
  const port = await firstFreePort(1883);
  const broker = typeof aedesMod.createBroker === "function" ? await aedesMod.createBroker() : aedesMod.Aedes ? await aedesMod.Aedes.createBroker() : aedesMod();
  if (trace) broker.on("publish", (p: any, c: any) => c && console.log("broker: " + c.id + " -> " + p.topic + " " + JSON.stringify(p.payload.toString("latin1"))));
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    port,
    close: () =>
      new Promise((r) => {
        broker.close(() => server.close(() => r()));
        setTimeout(r, 1000).unref();
      })
  };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  let host = "127.0.0.1";
  let port = 0;
  let user = "";
  let pass = "";
  let closeBroker: (() => Promise<void>) | null = null;
  if (a.broker) {
    let u: URL;
    try {
      u = new URL(a.broker);
    } catch {
      usage("--broker must look like mqtt://user:pass@host:port");
    }
    if (u.protocol !== "mqtt:" && u.protocol !== "mqtts:") usage("--broker must be mqtt:// or mqtts://");
    host = u.hostname;
    port = Number(u.port) || (u.protocol === "mqtts:" ? 8883 : 1883);
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
  } else {
    const b = await embeddedBroker(a.trace);
    port = b.port;
    closeBroker = b.close;
    console.log("sim: embedded MQTT broker on 127.0.0.1:" + port);
  }
  let base: any;
  if (a.config) {
    try {
      base = JSON.parse(readFileSync(a.config, "utf8"));
    } catch (e: any) {
      usage("cannot read " + a.config + ": " + e.message);
    }
  } else base = demoConfig(a.board || "esp8266");
  if (a.board) base.board = a.board;
  const prefix = (base.device && base.device.prefix) || "home";
  console.log("sim: watch with: mosquitto_sub -h " + host + " -p " + port + (user ? " -u " + user + " -P '" + pass + "'" : "") + " -v -t '" + prefix + "/#' -t 'homeassistant/#'");

  const tty = process.stdout.isTTY;
  const devices: SimDevice[] = [];
  for (let i = 1; i <= a.devices; i++) {
    const id = a.devices === 1 ? a.id : a.id + "-" + i;
    const cfg = JSON.parse(JSON.stringify(base));
    cfg.device = { ...(cfg.device || {}), id };
    cfg.mqtt = { ...(cfg.mqtt || {}), host, port };
    if (user) cfg.mqtt.username = user;
    if (pass) cfg.mqtt.password = pass;
    const d = await startDevice({ config: cfg, trace: a.trace, log: tty && a.devices > 1 ? undefined : (l) => (tty ? undefined : console.log(id + ": " + l)) });
    devices.push(d);
  }

  const status = (d: SimDevice) => {
    const s = d.hw.sensors[0];
    const r = d.relay();
    const reading = s ? s.temperature.toFixed(1) + "C " + s.humidity.toFixed(0) + "% " + ("pressure" in s ? (s.pressure / 100).toFixed(0) + "hPa" : "") : "-";
    const last = d.console.length ? d.console[d.console.length - 1] : "";
    return d.id.padEnd(14) + " " + reading.padEnd(22) + " pump " + (r === null ? "-  " : r ? "ON " : "off") + " tank " + d.hw.tank.level.toFixed(1).padStart(5) + "% link " + (d.rt.openSockets() ? "up  " : "down") + " | " + last.substr(0, 60);
  };
  let drawn = 0;
  const draw = () => {
    const shown = devices.slice(0, 30);
    if (drawn) process.stdout.write("\x1b[" + drawn + "A");
    for (const d of shown) process.stdout.write("\x1b[2K" + status(d) + "\n");
    let extra = 0;
    if (devices.length > shown.length) {
      process.stdout.write("\x1b[2K... and " + (devices.length - shown.length) + " more devices\n");
      extra = 1;
    }
    drawn = shown.length + extra;
  };
  const timer = tty ? setInterval(draw, 500) : setInterval(() => {
    for (const d of devices.slice(0, 5)) console.log("status " + status(d));
  }, 10000);

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    console.log("\nsim: stopping (" + why + ")" + (a.graceful ? ", graceful" : ", as a power cut"));
    await Promise.all(devices.map((d) => d.stop({ graceful: a.graceful })));
    if (closeBroker) await closeBroker();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("Ctrl-C"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  if (a.duration) setTimeout(() => void stop("duration"), a.duration * 1000);
}

main().catch((e) => {
  console.error("sim: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
