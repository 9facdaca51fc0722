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
import { children, isFunction, notAReference } from "./ast.js";

/** Globals missing from Espruino 2v29 (measured) and ES2015+ globals it does not have. */
export const FORBIDDEN_GLOBALS = [
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Symbol", "Reflect", "Proxy", "TextEncoder", "TextDecoder",
  "setImmediate", "queueMicrotask", "globalThis", "BigInt", "structuredClone", "FinalizationRegistry"
];

/** Static methods missing on Espruino: Object.method */
export const FORBIDDEN_STATICS = [
  "Array.from", "Array.of", "Math.trunc", "Math.sign", "Math.cbrt", "Math.hypot", "Math.log2", "Math.log10",
  "Number.isFinite", "Number.isSafeInteger", "Number.isInteger", "Number.isNaN", "Number.EPSILON", "Object.freeze", "Object.isFrozen",
  "Object.seal", "Object.fromEntries", "Object.getOwnPropertySymbols", "String.raw", "String.fromCodePoint",
  "Promise.allSettled", "Promise.any"
];

/** Prototype methods missing on Espruino, refused wherever they are called as x.name(...). */
export const FORBIDDEN_METHODS = ["flat", "flatMap", "codePointAt", "normalize", "matchAll", "replaceAll", "at"];

/** Modules built into Espruino's ESP8266/ESP32/Linux builds that the firmware may require. */
export const ALLOWED_MODULES = ["net", "Wifi", "Storage", "tls", "crypto"];

/**
 * Regular expressions: Espruino 2v29's engine is a small backtracker. Measured on the real interpreter:
 * `{n,m}` never matches, `?` after an atom or a group never matches, a quantified group `(..)*` fails,
 * `(?:..)` counts as a capturing group, `\b`, lazy quantifiers, the `m` flag and split() by a regex do
 * not work, and a top-level `|` with anchors misbehaves under replace(/../g). So a bundle may only use
 * the subset that was measured to work: anchors, classes, escapes other than \b \B and back-references,
 * `*` and `+` on single atoms, plain groups (alternation inside them), flags g and i.
 * Returns the first problem found in the pattern, or null.
 */
export function regexProblem(pattern: string, flags: string): string | null {
  if (/[^gi]/.test(flags)) return "flag " + flags.replace(/[gi]/g, "") + " is not supported by Espruino";
  var inClass = false;
  var prev = "";
  var depth = 0;
  for (var i = 0; i < pattern.length; i++) {
    var c = pattern[i];
    if (c === "\\") {
      var d = pattern[i + 1];
      if (!inClass && (d === "b" || d === "B")) return "\\" + d + " (word boundary) does not work on Espruino";
      if (!inClass && d >= "1" && d <= "9") return "back-reference \\" + d + " does not work on Espruino";
      i++;
      prev = "atom";
      continue;
    }
    if (inClass) {
      if (c === "]") { inClass = false; prev = "atom"; }
      continue;
    }
    if (c === "[") { inClass = true; continue; }
    if (c === "(") {
      if (pattern[i + 1] === "?") return "(?...) groups do not work on Espruino (it treats (?: as capturing)";
      depth++;
      prev = "";
      continue;
    }
    if (c === ")") { depth--; prev = "group"; continue; }
    if (c === "?") return "the ? quantifier does not work on Espruino";
    if (c === "{") return "{n,m} quantifiers do not work on Espruino";
    if (c === "*" || c === "+") {
      if (prev === "group") return "a quantified group (...)" + c + " does not work on Espruino";
      if (prev !== "atom") return "a quantifier without an atom";
      prev = "quantified";
      continue;
    }
    if (c === "|" && depth === 0) return "top-level | does not work reliably on Espruino: put the alternatives in a group";
    prev = "atom";
  }
  return null;
}

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
    Literal(node: any) {
      if (!node.regex) return;
      var p = regexProblem(node.regex.pattern, node.regex.flags);
      if (p) add(node, "regular expression /" + node.regex.pattern + "/" + node.regex.flags + ": " + p);
    },
    AssignmentExpression(node: any) {
      var l = node.left;
      if (l.type === "MemberExpression" && !l.computed && l.property.name === "length") add(node, "assigning .length throws on Espruino (Assignment to a constant): use splice()");
    },
    NewExpression(node: any) {
      if (node.callee.type === "Identifier" && node.callee.name === "RegExp") add(node, "new RegExp() cannot be checked against Espruino's regex subset: use a literal");
    },
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
      if (c.type === "MemberExpression" && !c.computed && c.property.name === "split" && node.arguments[0] && node.arguments[0].regex) {
        add(node, ".split() by a regular expression does not work on Espruino: split by a string");
      }
      if (c.type === "Identifier" && c.name === "RegExp") add(node, "RegExp() cannot be checked against Espruino's regex subset: use a literal");
      if (c.type === "Identifier" && c.name === "require") {
        var a = node.arguments[0];
        if (!a || a.type !== "Literal" || typeof a.value !== "string") add(node, "require() needs a literal module name");
        else if (ALLOWED_MODULES.indexOf(a.value) < 0) add(node, "require(\"" + a.value + "\") is not built into Espruino (allowed: " + ALLOWED_MODULES.join(", ") + ")");
      }
    }
  });
  lateVars(ast, add);
  return out;
}

/*
 * Espruino does not hoist `var`: a local exists only once its `var` statement has run, and until then an
 * assignment to that name writes the global of the same name (measured on 2v29: a minifier-inlined helper
 * whose `var n` came last overwrote the bundle's top-level function n). So every use of a function's var
 * must come after a declaration of it that has surely run: one earlier in the text, in a statement list
 * (block, case, function body) or for-loop head that also holds the use. Parameters and catch bindings
 * are locals from the start. Uses inside nested functions are not checked (they run later).
 */
function lateVars(ast: Node, add: (node: any, message: string) => void): void {
  // Walk fn's body without entering nested functions; visit gets each node, its ancestors and the key of the
  // parent that holds it.
  function own(fn: any, visit: (node: any, parents: any[], key: string) => void) {
    function go(node: any, parents: any[], key: string) {
      visit(node, parents, key);
      if (isFunction(node)) return;
      var next = parents.concat([node]);
      for (var c of children(node)) go(c.node, next, c.key);
    }
    go(fn.body, [fn], "body");
  }
  function check(fn: any) {
    var locals: Record<string, boolean> = {};
    for (var p of fn.params) locals[p.name] = true;
    // name -> [start of the declarator, start and end of what surely runs after it]
    var decls: Record<string, number[][]> = {};
    own(fn, function (node, parents) {
      if (node.type === "CatchClause" && node.param) locals[node.param.name] = true;
      if (node.type !== "VariableDeclarator") return;
      var holder = parents[parents.length - 2];
      // A for-loop head's var has run for the rest of the statement list the loop stands in.
      var up = parents[parents.length - 3];
      if ((holder.type === "ForStatement" || holder.type === "ForInStatement") && up && (up.type === "BlockStatement" || up.type === "SwitchCase")) holder = up;
      (decls[node.id.name] = decls[node.id.name] || []).push([node.start, holder.start, holder.end]);
    });
    own(fn, function (node, parents, key) {
      if (node.type !== "Identifier" || !decls[node.name] || locals[node.name]) return;
      if (notAReference(parents[parents.length - 1], key)) return;
      var d = decls[node.name];
      for (var i = 0; i < d.length; i++) {
        if (d[i][0] === node.start || (d[i][0] < node.start && d[i][1] <= node.start && node.start < d[i][2])) return;
      }
      add(node, "var " + node.name + " is used before its declaration has surely run (Espruino does not hoist var: this would be the global " + node.name + ")");
    });
  }
  ancestor(ast, {
    FunctionDeclaration(node: any) { check(node); },
    FunctionExpression(node: any) { check(node); }
  });
}

/**
 * Only the var-hoisting check, on any JavaScript (ES2020 parse): the simulator runs it on what it boots,
 * since Node hoists var and would run such code where Espruino does not. Unparsable code gives none.
 */
export function hoistingFindings(code: string): Finding[] {
  var out: Finding[] = [];
  var ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 2020, sourceType: "script", locations: true, allowReserved: true });
  } catch (e) {
    return out;
  }
  lateVars(ast, function (node: any, message: string) {
    out.push({ line: node.loc.start.line, column: node.loc.start.column, message: message });
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
