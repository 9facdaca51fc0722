/*
 * A real Mosquitto for integration tests: started on a free 127.0.0.1 port with its own config in a temp
 * directory, stopped by the test. Extra config lines (password file, ACL, TLS listener) can be passed in.
 * restart() keeps the same port so clients can reconnect; pause()/resume() freeze the process (SIGSTOP)
 * to make a half-open link that only keepalive can detect.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function mosquittoPath(): string {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) if (existsSync(p)) return p;
  return "mosquitto";
}

/** A free TCP port on 127.0.0.1 (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as any).port;
      s.close(() => resolve(port));
    });
  });
}

function waitListening(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => { c.destroy(); resolve(); });
      c.once("error", () => {
        c.destroy();
        if (Date.now() > until) reject(new Error("mosquitto did not listen on 127.0.0.1:" + port));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface BrokerOptions {
  /** Extra lines for mosquitto.conf (after the listener line). Default: allow_anonymous true. */
  extraConfig?: string;
  /** Replace the whole listener section (e.g. for TLS). Use {PORT} and {DIR}. */
  listenerConfig?: string;
  /** Keep Mosquitto's own log on stderr for debugging. */
  verbose?: boolean;
  /** Called with the temp dir before the first start (make password files, certificates...). */
  beforeStart?: (dir: string) => void;
}

export class Broker {
  port = 0;
  dir: string;
  private proc: ChildProcess | null = null;
  private opts: BrokerOptions;
  log = "";

  private constructor(opts: BrokerOptions) {
    this.opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), "mosq-"));
  }

  /** Start a broker on a free loopback port. */
  static async start(opts: BrokerOptions = {}): Promise<Broker> {
    const b = new Broker(opts);
    b.port = await freePort();
    opts.beforeStart?.(b.dir);
    await b.spawn();
    return b;
  }

  get url(): string {
    return "mqtt://127.0.0.1:" + this.port;
  }

  private async spawn(): Promise<void> {
    const listener = (this.opts.listenerConfig ?? "listener {PORT} 127.0.0.1\nallow_anonymous true\n")
      .replace(/\{PORT\}/g, String(this.port))
      .replace(/\{DIR\}/g, this.dir);
    const conf = join(this.dir, "mosquitto.conf");
    // As root Mosquitto would drop to the "mosquitto" user, who cannot read our temp dir: stay as we are.
    const asRoot = process.getuid?.() === 0 ? "user root\n" : "";
    writeFileSync(conf, asRoot + "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n" + (this.opts.verbose ? "log_type all\n" : "") + listener + (this.opts.extraConfig ?? "").replace(/\{DIR\}/g, this.dir) + "\n");
    const p = spawn(mosquittoPath(), ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = p;
    p.stderr!.on("data", (d) => {
      this.log += d.toString();
      if (this.opts.verbose) process.stderr.write(d);
    });
    const exited = new Promise<never>((_, reject) => p.once("exit", (code) => reject(new Error("mosquitto exited (" + code + "): " + this.log.trim()))));
    await Promise.race([waitListening(this.port, 5000), exited]);
    exited.catch(() => {});
  }

  /** Stop (SIGTERM: a clean broker shutdown, sockets closed with FIN). */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once("exit", r));
    p.kill("SIGCONT");
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 3000);
    await done;
    clearTimeout(t);
  }

  /** Kill hard (SIGKILL): the broker vanishes, the kernel still closes its sockets. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await done;
  }

  /** Start again on the same port after stop() or kill() (clients reconnect to the same address). */
  async startAgain(): Promise<void> {
    if (this.proc) throw new Error("mosquitto is still running");
    await this.spawn();
  }

  /** Stop and start again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  /** Freeze the broker: TCP stays open, nothing answers (a half-open link as far as clients can tell). */
  pause(): void {
    this.proc?.kill("SIGSTOP");
  }

  resume(): void {
    this.proc?.kill("SIGCONT");
  }

  /** Stop and remove the temp directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
