/*
 * Programmatic API of the simulator, for tests, the CLI and the fleet benchmark: start a device from a
 * bundle and a config, read pins, drive inputs, inject faults. See sim/README.md.
 *
 *   const d = await startDevice({ config: { ...config.json... } });
 *   await d.waitForConsole(/config ok/, 2000);
 *   d.setInput("D6", 1); d.relay(); d.wifiDrop(5); d.cutTcp(); await d.powerCycle();
 *   await d.stop();                       // power cut (the broker publishes the Will)
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { boardInfo, resolvePin } from "../boards/index";
import type { BoardInfo } from "../boards/types";
import { validateConfig } from "../firmware/config";
import { Runtime, type RebootKind } from "./runtime";
import { StorageDir } from "./storage";
import { BoschChip } from "./hw/bosch";
import { DHT22Model } from "./hw/dht22";
import { Tank, Room } from "./hw/tank";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_BUNDLE = join(ROOT, "dist", "firmware.js");

export interface DeviceOptions {
  /** Path of the bundle; default dist/firmware.js. Or the code itself with `code`. */
  bundle?: string;
  /** The bundle's source text (instead of reading `bundle`). */
  code?: string;
  /** Written as Storage config.json; a string is written as is (to test bad JSON). */
  config: object | string;
  /** Board id (esp8266, d1mini, esp32, linux); default config.board, else esp8266. */
  board?: string;
  /** Directory for this device's Storage files; default a fresh temp directory (removed by stop()). */
  storageDir?: string;
  env?: { temperature?: number; humidity?: number; pressure?: number };
  trace?: boolean;
  log?: (line: string) => void;
  /** The access point the virtual Wifi offers (default: any). */
  ap?: { ssid?: string; password?: string };
  /** Id for logs; default config.device.id, else "sim". */
  id?: string;
}

interface Interlock {
  name: string;
  pin: number;
  activeLevel: number;
}

let counter = 0;

export class SimDevice {
  readonly id: string;
  readonly board: BoardInfo;
  readonly console: string[];
  readonly rt: Runtime;
  readonly hw: { sensors: any[]; tank: Tank; room: Room };
  /** The validated config (null when it did not validate on the host either). */
  readonly config: any;
  private pumpPin = -1;
  private activeLow = false;
  private interlocks: Interlock[] = [];
  private physics: NodeJS.Timeout | null = null;
  private ownDir: string | null;
  private lastStep = Date.now();
  private waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];

  constructor(opts: DeviceOptions) {
    const raw = typeof opts.config === "string" ? safeParse(opts.config) : opts.config;
    const boardId = opts.board || (raw && typeof raw.board === "string" ? raw.board : "esp8266");
    const board = boardInfo(boardId);
    if (!board) throw new Error("sim: unknown board " + JSON.stringify(boardId));
    this.board = board;
    const v = raw ? validateConfig(raw) : { config: null, errors: [] };
    this.config = v.config;
    this.id = opts.id || (raw && raw.device && typeof raw.device.id === "string" ? raw.device.id : "sim") + "";
    this.ownDir = opts.storageDir ? null : mkdtempSync(join(tmpdir(), "simdev-"));
    const storage = new StorageDir(opts.storageDir || this.ownDir!);
    const code = opts.code ?? readFileSync(opts.bundle || DEFAULT_BUNDLE, "latin1");
    storage.write(".bootcde", code);
    storage.write("config.json", typeof opts.config === "string" ? opts.config : JSON.stringify(opts.config));
    const log = opts.log;
    this.rt = new Runtime({
      id: this.id,
      board,
      storage,
      trace: opts.trace,
      ap: opts.ap,
      log: (line) => {
        if (log) log(line);
        for (const w of this.waiters.slice()) if (w.re.test(line)) w.resolve(line);
      }
    });
    this.console = this.rt.console;
    this.hw = { sensors: [], tank: new Tank(), room: new Room(opts.env || {}, ++counter * 7919) };
    this.buildHardware(raw, board);
  }

  private buildHardware(raw: any, board: BoardInfo): void {
    const sensors: any[] = raw && Array.isArray(raw.sensors) ? raw.sensors : [];
    const pin = (name: any, dflt: string) => resolvePin(board, typeof name === "string" ? name : dflt);
    for (const s of sensors) {
      if (!s || typeof s !== "object") continue;
      if (s.type === "dht22") {
        const p = pin(s.pin, "");
        if (p < 0) continue;
        const m = new DHT22Model(p);
        this.hw.sensors.push(m);
        this.rt.attachDHT(m);
      } else if (s.type === "bme280" || s.type === "bmp280") {
        const chip = new BoschChip({ type: s.type, address: typeof s.address === "number" ? s.address : 0x76, now: () => performance.now() });
        this.hw.sensors.push(chip);
        this.rt.attachI2C(chip, pin(s.sda, board.i2c.sda), pin(s.scl, board.i2c.scl));
      }
    }
    const pump = raw && raw.pump && typeof raw.pump === "object" ? raw.pump : null;
    if (pump) {
      this.pumpPin = pin(pump.pin, "");
      this.activeLow = pump.activeLow === true;
      for (const il of Array.isArray(pump.interlocks) ? pump.interlocks : []) {
        const p = pin(il && il.pin, "");
        if (p < 0) continue;
        const active = typeof il.activeLevel === "number" ? il.activeLevel : 1;
        this.interlocks.push({ name: String(il.name), pin: p, activeLevel: active });
        // Inactive at power-on: the switch holds the line at the inactive level.
        this.rt.drive(p, il.name === "tank_full" ? (this.hw.tank.full() ? active : 1 - active) : 1 - active);
      }
    }
    this.stepPhysics();
  }

  /** Move the room and the tank on (called every 200 ms while running). */
  private stepPhysics(): void {
    const now = Date.now();
    const dt = (now - this.lastStep) / 1000;
    this.lastStep = now;
    const c = this.hw.room.at(now);
    for (const s of this.hw.sensors) {
      s.temperature = c.temperature;
      s.humidity = c.humidity;
      if ("pressure" in s) s.pressure = c.pressure;
    }
    this.hw.tank.step(dt, this.relay() === true);
    const full = this.interlocks.find((i) => i.name === "tank_full");
    if (full) {
      const want = this.hw.tank.full() ? full.activeLevel : 1 - full.activeLevel;
      if (this.rt.pins[full.pin].ext !== want) this.rt.drive(full.pin, want);
    }
  }

  /** Boot: resolves once the bundle's first run returned. */
  start(): void {
    this.rt.powerOn();
    this.physics = setInterval(() => this.stepPhysics(), 200);
  }

  waitForConsole(re: RegExp, timeoutMs: number): Promise<string> {
    const hit = this.console.find((l) => re.test(l));
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = {
        re,
        resolve: (l: string) => {
          clearTimeout(t);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          resolve(l);
        }
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error("sim " + this.id + ": no console line matching " + re + " within " + timeoutMs + " ms; console:\n" + this.console.slice(-20).join("\n")));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** A pin by board label ("D5"), "GPIO14" or GPIO number. */
  pinNumber(name: string | number): number {
    if (typeof name === "number") return name;
    const n = resolvePin(this.board, name);
    if (n >= 0) return n;
    const m = /^(?:D|GPIO)(\d+)$/.exec(name);
    if (m && +m[1] < this.rt.pins.length) return +m[1];
    throw new Error("sim: no pin " + name + " on " + this.board.name);
  }

  /** Current level of a pin. A floating input reads 0. */
  pin(name: string | number): number {
    return this.rt.pins[this.pinNumber(name)].level;
  }

  /** Drive an input pin from outside (an interlock switch); -1 releases it. */
  setInput(name: string | number, level: number): void {
    this.rt.drive(this.pinNumber(name), level);
  }

  /** Set an interlock by its config name: active true/false. */
  setInterlock(name: string, active: boolean): void {
    const il = this.interlocks.find((i) => i.name === name);
    if (!il) throw new Error("sim: no interlock " + name);
    this.rt.drive(il.pin, active ? il.activeLevel : 1 - il.activeLevel);
  }

  /** Pump running: the bundle drives the relay pin to its active level. A pin that is not driven (input,
   * floating) leaves the relay off. null without a pump in the config. */
  relay(): boolean | null {
    if (this.pumpPin < 0) return null;
    if (!this.rt.driven(this.pumpPin)) return false;
    return this.rt.pins[this.pumpPin].level === (this.activeLow ? 0 : 1);
  }

  wifiDrop(seconds: number): void {
    this.rt.wifiDrop(seconds);
  }

  cutTcp(): void {
    this.rt.cutTcp();
  }

  /** Power off and on again: RAM, timers, sockets gone; Storage kept; the bundle runs from the start. */
  async powerCycle(): Promise<void> {
    this.rt.powerOff();
    await new Promise((r) => setTimeout(r, 20));
    this.rt.powerOn();
  }

  memory(): { free: number; usage: number; total: number } {
    return this.rt.memory();
  }

  /** Default: power cut. graceful: E.emit('kill') first, then up to 2 s for sockets to close. */
  async stop(opts?: { graceful?: boolean }): Promise<void> {
    if (this.physics) clearInterval(this.physics);
    this.physics = null;
    if (opts && opts.graceful && this.rt.alive) {
      this.rt.emitKill();
      const until = Date.now() + 2000;
      while (this.rt.openSockets() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    }
    this.rt.destroy();
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    this.ownDir = null;
  }
}

function safeParse(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/** Boot a device; resolves once the bundle's first run returned. */
export async function startDevice(opts: DeviceOptions): Promise<SimDevice> {
  const d = new SimDevice(opts);
  d.start();
  return d;
}

export type { RebootKind };
