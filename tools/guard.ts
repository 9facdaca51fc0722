/*
 * Dialect guard: proves a bundle only holds what Espruino 2v29 runs correctly (../shared/ESPRUINO.md).
 * - Syntax: the bundle must parse as ES5. Destructuring, default/rest parameters, spread, computed keys,
 *   optional chaining, logical assignment... are all ES2015+ and some break on Espruino silently, so the
 *   whole class is refused at once rather than listed one by one.
 * - Built-ins: no reference to a global or static method Espruino lacks (Map, Array.from, ...).
 * - Modules: require() only of Espruino's built-ins, with a literal name.
 * Each finding names the bundle line:column and, through the source map, the TypeScript source.
 *
 * CLI: tsx tools/guard.ts dist/firmware.js   (exit 1 with one line per finding)
 */
import { parse, type Node } from "acorn";
import { ancestor } from "acorn-walk";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";

/** Globals missing from Espruino 2v29 (measured) and ES2015+ globals it does not have. */
export const FORBIDDEN_GLOBALS = [
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Symbol", "Reflect", "Proxy", "TextEncoder", "TextDecoder",
  "setImmediate", "queueMicrotask", "globalThis", "BigInt", "structuredClone", "FinalizationRegistry"
];

/** Static methods missing on Espruino: Object.method */
export const FORBIDDEN_STATICS = [
  "Array.from", "Array.of", "Math.trunc", "Math.sign", "Math.cbrt", "Math.hypot", "Math.log2", "Math.log10",
  "Number.isFinite", "Number.isSafeInteger", "Number.EPSILON", "Object.freeze", "Object.isFrozen",
  "Object.seal", "Object.fromEntries", "Object.getOwnPropertySymbols", "String.raw", "String.fromCodePoint",
  "Promise.allSettled", "Promise.any"
];

/** Prototype methods missing on Espruino, refused wherever they are called as x.name(...). */
export const FORBIDDEN_METHODS = ["flat", "flatMap", "codePointAt", "normalize", "matchAll", "replaceAll", "at"];

/** Modules built into Espruino's ESP8266/ESP32/Linux builds that the firmware may require. */
export const ALLOWED_MODULES = ["net", "Wifi", "Storage", "tls", "crypto"];

export interface Finding {
  line: number;
  column: number;
  message: string;
  /** "firmware/x.ts:12" when a source map places it. */
  source?: string;
}

function where(map: TraceMap | null, line: number, column: number): string | undefined {
  if (!map) return undefined;
  var p = originalPositionFor(map, { line: line, column: column });
  return p.source ? p.source.replace(/^(\.\.\/)+/, "") + ":" + p.line : undefined;
}

/** Check one bundle's text. The source map (raw JSON text) is optional. */
export function checkBundle(code: string, mapText?: string): Finding[] {
  var map = mapText ? new TraceMap(mapText) : null;
  var out: Finding[] = [];
  var ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 5, sourceType: "script", locations: true, allowReserved: true });
  } catch (e: any) {
    var loc = e.loc || { line: 0, column: 0 };
    out.push({ line: loc.line, column: loc.column, message: "not ES5: " + e.message.replace(/ \(\d+:\d+\)$/, ""), source: where(map, loc.line, loc.column) });
    return out;
  }
  function add(node: any, message: string) {
    var l = node.loc.start;
    out.push({ line: l.line, column: l.column, message: message, source: where(map, l.line, l.column) });
  }
  ancestor(ast, {
    Identifier(node: any, _state: unknown, parents: any[]) {
      if (FORBIDDEN_GLOBALS.indexOf(node.name) < 0) return;
      var parent = parents[parents.length - 2];
      // x.Map or {Map: 1} name a property, not the global.
      if (parent && parent.type === "MemberExpression" && parent.property === node && !parent.computed) return;
      if (parent && parent.type === "Property" && parent.key === node && !parent.computed) return;
      add(node, node.name + " does not exist on Espruino");
    },
    MemberExpression(node: any) {
      if (node.computed || node.property.type !== "Identifier") return;
      if (node.object.type === "Identifier") {
        var full = node.object.name + "." + node.property.name;
        if (FORBIDDEN_STATICS.indexOf(full) >= 0) add(node, full + " does not exist on Espruino");
      }
    },
    CallExpression(node: any) {
      var c = node.callee;
      if (c.type === "MemberExpression" && !c.computed && FORBIDDEN_METHODS.indexOf(c.property.name) >= 0) {
        add(node, "." + c.property.name + "() does not exist on Espruino");
      }
      if (c.type === "Identifier" && c.name === "require") {
        var a = node.arguments[0];
        if (!a || a.type !== "Literal" || typeof a.value !== "string") add(node, "require() needs a literal module name");
        else if (ALLOWED_MODULES.indexOf(a.value) < 0) add(node, "require(\"" + a.value + "\") is not built into Espruino (allowed: " + ALLOWED_MODULES.join(", ") + ")");
      }
    }
  });
  return out;
}

export function formatFinding(file: string, f: Finding): string {
  return file + ":" + f.line + ":" + f.column + (f.source ? " (" + f.source + ")" : "") + ": " + f.message;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  var file = process.argv[2] || "dist/firmware.js";
  var code = readFileSync(file, "utf8");
  var mapText = existsSync(file + ".map") ? readFileSync(file + ".map", "utf8") : undefined;
  var findings = checkBundle(code, mapText);
  for (var f of findings) console.error(formatFinding(file, f));
  if (findings.length) {
    console.error("dialect guard: " + findings.length + " problem(s) in " + file + "; see ../shared/ESPRUINO.md");
    process.exit(1);
  }
  console.log("dialect guard: " + file + " is ES5 with Espruino built-ins only");
}
