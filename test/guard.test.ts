// The dialect guard (tools/guard.ts) refuses every construct ESPRUINO.md lists as broken, and passes the
// real bundle. Each offending sample is fed as a bundle would be: plain script text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { checkBundle } from "../tools/guard.ts";

const REFUSED: Array<[string, string, RegExp]> = [
  ["destructuring (object)", "var {a} = o;", /not ES5/],
  ["destructuring (array)", "var [x] = arr;", /not ES5/],
  ["default parameter", "function f(a, b = 2) { return a + b; }", /not ES5/],
  ["rest parameter", "function f(...args) { return args; }", /not ES5/],
  ["spread call", "f(...a);", /not ES5/],
  ["object spread", "var o = {...p};", /not ES5/],
  ["computed key", "var o = {[k]: 1};", /not ES5/],
  ["optional chaining", "var v = a?.b;", /not ES5/],
  ["logical assignment", "x ||= 1;", /not ES5/],
  ["nullish", "var v = a ?? b;", /not ES5/],
  ["arrow function", "var f = () => 1;", /not ES5/],
  ["let", "let x = 1;", /not ES5/],
  ["class", "class A {}", /not ES5/],
  ["template literal", "var s = `x${y}`;", /not ES5/],
  ["async function", "async function f() {}", /not ES5/],
  ["generator", "function* g() { yield 1; }", /not ES5/],
  ["for...of", "for (var x of xs) {}", /not ES5/],
  ["Map", "var m = new Map();", /Map does not exist/],
  ["Set", "var s = new Set([1]);", /Set does not exist/],
  ["WeakMap", "var w = new WeakMap();", /WeakMap does not exist/],
  ["Symbol", "var s = Symbol('x');", /Symbol does not exist/],
  ["Reflect", "Reflect.ownKeys(o);", /Reflect does not exist/],
  ["Array.from", "var a = Array.from(x);", /Array\.from does not exist/],
  ["Math.trunc", "var n = Math.trunc(1.5);", /Math\.trunc does not exist/],
  ["Number.isFinite", "Number.isFinite(n);", /Number\.isFinite does not exist/],
  ["Object.freeze", "Object.freeze(o);", /Object\.freeze does not exist/],
  ["TextEncoder", "new TextEncoder().encode(s);", /TextEncoder does not exist/],
  ["setImmediate", "setImmediate(f);", /setImmediate does not exist/],
  ["queueMicrotask", "queueMicrotask(f);", /queueMicrotask does not exist/],
  [".flat()", "var b = a.flat();", /\.flat\(\) does not exist/],
  ["require of a non built-in", "var m = require('MQTT');", /require\("MQTT"\) is not built into Espruino/],
  ["require with a computed name", "var m = require(n);", /literal module name/],
  ["regex {n,m}", "var r = /^[a-z]{1,24}$/;", /\{n,m\} quantifiers do not work/],
  ["regex ?", "var r = /^ab?c$/;", /the \? quantifier does not work/],
  ["regex optional group", "var r = /^a(\\.[0-9]+)?$/;", /the \? quantifier does not work/],
  ["regex quantified group", "var r = /^a(\\/b)*$/;", /quantified group/],
  ["regex (?:", "var r = /^(?:GPIO|D)$/;", /\(\?\.\.\.\) groups do not work/],
  ["regex \\b", "var r = /\\bword/;", /word boundary/],
  ["regex back-reference", "var r = /(a)\\1/;", /back-reference/],
  ["regex m flag", "var r = /^a$/m;", /flag m is not supported/],
  ["regex lazy", "var r = /a.*?b/;", /the \? quantifier does not work/],
  ["regex top-level |", "var s = t.replace(/^\\s+|\\s+$/g, '');", /top-level \|/],
  ["split by regex", "var p = s.split(/, /);", /split\(\) by a regular expression/],
  ["new RegExp", "var r = new RegExp(s);", /new RegExp\(\) cannot be checked/],
  ["array length assignment", "a.length = 0;", /assigning \.length throws on Espruino/],
  ["Number.isInteger", "Number.isInteger(n);", /Number\.isInteger does not exist/],
  ["Number.isNaN", "Number.isNaN(n);", /Number\.isNaN does not exist/]
];

for (const [name, code, expected] of REFUSED) {
  test("guard refuses " + name, () => {
    const findings = checkBundle(code);
    assert.ok(findings.length > 0, "no finding for: " + code);
    assert.match(findings[0].message, expected);
    assert.equal(findings[0].line, 1);
  });
}

test("guard accepts ES5 with Espruino built-ins, and property names that only look like globals", () => {
  const ok = "var net = require('net'); var s = require('Storage'); var o = {Map: 1, Set: 2}; o.Map = 3;" +
    "var a = [1, 2].map(function (x) { return x * 2; }); var b = Object.keys(o); var u = new Uint8Array(4);" +
    "var k = Object.assign({}, o); var e = E.toString(u);" +
    "var r = [/^[A-Za-z0-9_-]+$/, /^(GPIO|D)([0-9]+)$/, /^(ON|OFF)$/i, /-/g, /^[\\x20-\\x7e]*$/, /[{}?*+]/, /a\\?b/];" +
    "var q = 'a,b'.split(',');";
  assert.deepEqual(checkBundle(ok), []);
});

test("guard reports the line and column of the offence", () => {
  const f = checkBundle("var a = 1;\nvar b = 2;\nvar m = new Map();\n");
  assert.equal(f.length, 1);
  assert.equal(f[0].line, 3);
  assert.equal(f[0].column, 12);
});

test("guard maps a finding to the TypeScript source through the source map", () => {
  // A one-line bundle whose source map places column 0 at firmware/x.ts line 7.
  const map = JSON.stringify({ version: 3, sources: ["../firmware/x.ts"], names: [], mappings: "AAMA" });
  const f = checkBundle("Array.from(x);", map);
  assert.equal(f[0].source, "firmware/x.ts:7");
});

test("the built bundle passes the guard", { skip: !existsSync("dist/firmware.js") && "run npm run build first" }, () => {
  const code = readFileSync("dist/firmware.js", "utf8");
  const map = existsSync("dist/firmware.js.map") ? readFileSync("dist/firmware.js.map", "utf8") : undefined;
  assert.deepEqual(checkBundle(code, map), []);
});

// Espruino does not hoist var (measured on 2v29): a use before the declaration has run is the global.
const LATE: Array<[string, string]> = [
  ["var declared after its use", "var n = 1; function f(x) { n = x; var n; return n; }"],
  ["var declared in one branch, used in the other", "function g(x) { if (x) { var q = 1; } else { q = 2; } return q; }"],
  ["var declared in one case, used in another", "function h(k) { switch (k) { case 1: var i = 3; return i; case 2: return (i = 4); } }"],
  ["var declared inside a loop body, used in its test", "function l() { for (; n < 3;) { var n = 5; } }"]
];
for (const [name, code] of LATE) {
  test("guard refuses " + name, () => {
    const findings = checkBundle(code);
    assert.ok(findings.length > 0, "no finding for: " + code);
    assert.match(findings[0].message, /Espruino does not hoist var/);
  });
}

test("guard accepts vars declared before their use: function body, same block, for head", () => {
  const ok = "function f(a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; if (s) { var t = s * 2; s = t; } " +
    "try { s++; } catch (e) { e = 1; } for (var k in a) s += k; return s + i + k; }" +
    // a label, a property key and a member name spelled like a later var are not uses of it
    " function g(o) { n: for (;;) { break n; } o.n = { n: 1 }; var n = 2; return n; }";
  assert.deepEqual(checkBundle(ok), []);
});
