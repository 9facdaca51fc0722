/*
 * Runs a bundle on a real Espruino interpreter (its Linux build), the way a board boots it: the bundle is
 * written to Storage as ".bootcde" (code runs from flash), config.json beside it, then the interpreter starts
 * with no arguments. The interpreter is NOT part of this repo: point ESPRUINO_BIN at one you built yourself
 * (ideally 32-bit with a fixed 1600 JsVars, like the ESP8266). Used by the memory benchmarks.
 *
 * Facts this relies on (measured on 2v29): the REPL ignores SIGTERM (we SIGKILL it); with stdin at EOF it
 * floods its console, so stdin is held open; Storage lives in ./espruino.flash of the working directory; a
 * script run as `espruino file.js` is copied into JsVars first, so Storage is written in small pieces.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function espruinoBin(): string | null {
  const b = process.env.ESPRUINO_BIN;
  return b && existsSync(b) ? b : null;
}

/** Write files into the interpreter's Storage (cwd/espruino.flash), 768 bytes per statement, 4 per run. */
function storeFiles(bin: string, dir: string, files: Record<string, string>): void {
  const lines: string[] = [];
  for (const [name, data] of Object.entries(files)) {
    const bytes = Buffer.from(data, "latin1");
    for (let off = 0; off < bytes.length || off === 0; off += 768) {
      const chunk = bytes.subarray(off, off + 768).toString("base64");
      lines.push(off === 0
        ? `if(!S.write(${JSON.stringify(name)},atob("${chunk}"),0,${bytes.length}))throw new Error("write failed");`
        : `if(!S.write(${JSON.stringify(name)},atob("${chunk}"),${off}))throw new Error("write failed");`);
      if (bytes.length === 0) break;
    }
  }
  for (let i = 0; i < lines.length; i += 4) {
    const script = join(dir, "_store.js");
    writeFileSync(script, "var S=require('Storage');\n" + lines.slice(i, i + 4).join("\n") + "\nprint('STORE OK');\n");
    const r = spawnSync(bin, [script], { cwd: dir, input: "", encoding: "latin1", timeout: 20000 });
    if (!/STORE OK/.test(r.stdout)) throw new Error("storing into Espruino's Storage failed: " + r.stdout + r.stderr);
  }
}

export interface RunOptions {
  bundle: string;
  config?: unknown;
  seconds: number;
  /** Called with each console line as it arrives (already stripped of terminal escapes). */
  onLine?: (line: string) => void;
  /** Extra ES5 code appended after the bundle (e.g. a memory probe). */
  append?: string;
}

/** Boot the bundle from Storage, run it for `seconds`, return every console line. */
export async function runOnEspruino(opts: RunOptions): Promise<string[]> {
  const bin = espruinoBin();
  if (!bin) throw new Error("set ESPRUINO_BIN to an Espruino Linux build");
  const dir = mkdtempSync(join(tmpdir(), "espruino-"));
  try {
    const code = readFileSync(opts.bundle, "latin1") + (opts.append ? "\n" + opts.append : "");
    const files: Record<string, string> = { ".bootcde": code };
    if (opts.config !== undefined) files["config.json"] = typeof opts.config === "string" ? opts.config : JSON.stringify(opts.config);
    storeFiles(bin, dir, files);
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      const p = spawn(bin, [], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
      let buf = "";
      const take = (d: Buffer) => {
        buf += d.toString("latin1");
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/^>/, "").replace(/\r$/, "");
          buf = buf.slice(i + 1);
          if (/^espruino: /.test(line)) continue;
          lines.push(line);
          opts.onLine?.(line);
        }
      };
      p.stdout.on("data", take);
      p.stderr.on("data", take);
      const t = setTimeout(() => p.kill("SIGKILL"), opts.seconds * 1000);
      p.on("exit", () => { clearTimeout(t); resolve(); });
    });
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An ES5 probe printing "JSVARS <usage> <free> <total>" every periodMs (process.memory() runs a GC first). */
export function memoryProbe(periodMs: number): string {
  return ";setInterval(function(){var m=process.memory();print('JSVARS '+m.usage+' '+m.free+' '+m.total)}," + periodMs + ");";
}

/**
 * With BENCH_DUMP=file set: after `afterMs`, a GC then E.dumpVariables() (every JsVar with its links), which
 * saveDump() writes to that file for bench/memdump.ts. Without it, no code is added.
 */
export function dumpProbe(afterMs: number): string {
  if (!process.env.BENCH_DUMP) return "";
  return ";setTimeout(function(){process.memory();print('DUMPBEGIN');E.dumpVariables();print('DUMPEND')}," + afterMs + ");";
}

export function saveDump(lines: string[]): void {
  const file = process.env.BENCH_DUMP;
  if (!file) return;
  const a = lines.findIndex((x) => x.includes("DUMPBEGIN")), b = lines.findIndex((x) => x.includes("DUMPEND"));
  if (a >= 0 && b > a) writeFileSync(file, lines.slice(a + 1, b).join("\n") + "\n");
  console.log("  variable dump " + (a >= 0 && b > a ? "written to " + file : "missing (E.dumpVariables absent, or the run ended first?)"));
}

export function parseProbe(lines: string[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = /JSVARS (\d+) (\d+) (\d+)/.exec(l);
    if (m) out.push(Number(m[1]));
  }
  return out;
}
