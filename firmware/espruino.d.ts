/* Espruino built-ins the firmware uses that @types/espruino does not declare. */
declare function require(name: "Storage"): {
  read(name: string): string | undefined;
  readJSON(name: string, noExceptions: boolean): any;
  write(name: string, data: string): boolean;
  writeJSON(name: string, data: any): boolean;
  erase(name: string): void;
  list(): string[];
};
declare function require(name: "net" | "tls"): {
  connect(options: { host: string; port: number; ca?: string }, callback: () => void): any;
};
declare function require(name: "Wifi"): any;
declare function require(name: "crypto"): any;
declare var process: { env: { BOARD: string; VERSION: string; [k: string]: any }; memory(gc?: boolean): { free: number; usage: number; total: number; [k: string]: number } };
declare var console: { log(...args: any[]): void };
