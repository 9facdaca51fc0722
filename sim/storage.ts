/*
 * Espruino's require("Storage") for one simulated device, backed by one host file per Storage file in
 * the device's directory, so files survive power cycles and can be inspected. Contents are byte strings
 * (latin1 on disk). Semantics measured on Espruino 2v29 (Linux build):
 * - names are cut to 28 characters; write() of an empty string throws "Can't create zero length file";
 * - read() of a missing file gives undefined; readJSON(name, noExceptions) gives undefined for a missing
 *   file, and for bad JSON throws a SyntaxError unless noExceptions;
 * - write() returns true, erase() returns undefined, list() gives names (here in name order).
 * Differences: writeJSON writes standard JSON (Espruino writes unquoted keys and \xHH escapes, which
 * readJSON accepts but host tools may not).
 */
import { mkdirSync, readFileSync, writeFileSync, unlinkSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const NAME_MAX = 28;
const PREFIX = "s.";

export class StorageDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  static cut(name: string): string {
    return String(name).substr(0, NAME_MAX);
  }

  private path(name: string): string {
    return join(this.dir, PREFIX + encodeURIComponent(StorageDir.cut(name)));
  }

  read(name: string): string | undefined {
    const p = this.path(name);
    return existsSync(p) ? readFileSync(p, "latin1") : undefined;
  }

  write(name: string, data: string): void {
    writeFileSync(this.path(name), Buffer.from(data, "latin1"));
  }

  erase(name: string): void {
    const p = this.path(name);
    if (existsSync(p)) unlinkSync(p);
  }

  list(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.startsWith(PREFIX))
      .map((f) => decodeURIComponent(f.substr(PREFIX.length)))
      .sort();
  }
}
