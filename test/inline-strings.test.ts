// tools/inline-strings.js puts terser's top-level string constants back into the code that reads them
// (a top-level var is a global on Espruino, a literal in code costs no RAM), and must never touch a local
// of the same name or a constant that is assigned again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inlineStringConstants, inlineStrings } from "../tools/inline-strings.js";

function run(code: string): string | null {
  const r = inlineStringConstants(code);
  return r ? r.code : null;
}

/* Evaluate a script and return what it leaves in `out` (the constants' behaviour must not change). */
function evaluate(code: string): unknown {
  return new Function(code + ";return out;")();
}

test("reads of a top-level string var become the literal and the declaration goes", () => {
  const code = 'var a="pump/set",b=2;function f(t){return a+"/"+t}var out=f("x")+a.length+b;';
  const out = run(code)!;
  assert.equal(out, 'var b=2;function f(t){return "pump/set"+"/"+t}var out=f("x")+"pump/set".length+b;');
  assert.equal(evaluate(out), evaluate(code));
});

test("a whole var statement of constants is dropped; the raw literal (escapes) is kept", () => {
  const out = run('var a="\\xB0C",b="on";var out=[a,b];')!;
  assert.equal(out, 'var out=["\\xB0C","on"];');
  assert.deepEqual(evaluate(out), ["\u00B0C", "on"]);
});

test("declarators in the middle and at the end of a statement are cut cleanly", () => {
  assert.equal(run('var x=1,a="s",y=2;var out=a+x+y;'), 'var x=1,y=2;var out="s"+x+y;');
  assert.equal(run('var x=1,a="s",b="t";var out=a+b+x;'), 'var x=1;var out="s"+"t"+x;');
  assert.equal(run('var a="s",b="t",x=1;var out=a+b+x;'), 'var x=1;var out="s"+"t"+x;');
});

test("locals of the same name shadow the top-level one: parameter, var, function, function expression name, catch", () => {
  const code = [
    'var a="top";',
    "function p(a){return a}",
    "function v(){var a=1;return a}",
    "function late(){a=5;var a;return a}", // the local a, even before its var (JavaScript semantics)
    "function d(){function a(){return 3}return a()}",
    "var e=function a(n){return n?a(0):typeof a};",
    'function c(){try{throw 4}catch(a){return a}}',
    "function nested(a){return function(){return a}}",
    'var out=[a,p(7),v(),late(),d(),e(1),c(),nested(8)(),function(){return a}()];'
  ].join("");
  const out = run(code)!;
  assert.deepEqual(evaluate(out), evaluate(code));
  assert.doesNotMatch(out, /var a="top"/);
  // The only reads replaced: the first and last elements of out.
  assert.equal(out.split('"top"').length - 1, 2);
  assert.match(out, /function p\(a\)\{return a\}/);
  assert.match(out, /catch\(a\)\{return a\}/);
});

test("a catch binding shadows only inside its catch block", () => {
  const code = 'var a="top";function f(){try{throw 1}catch(a){}return a}var out=f();';
  const out = run(code)!;
  assert.equal(out, 'function f(){try{throw 1}catch(a){}return "top"}var out=f();');
});

test("property names are not references: o.a, {a: 1}, getters, labels", () => {
  const code = 'var a="k";var o={a:1,get b(){return a}};o.a=2;a:for(;;){break a}var out=[o.a,o[a],o.b];';
  const out = run(code)!;
  assert.equal(out, 'var o={a:1,get b(){return "k"}};o.a=2;a:for(;;){break a}var out=[o.a,o["k"],o.b];');
  assert.deepEqual(evaluate(out), evaluate(code));
});

test("a constant assigned, updated, redeclared or deleted anywhere is left alone entirely", () => {
  for (const code of [
    'var a="s";function f(){a="t"}var out=a;',
    'var a="s";function f(){a+="t"}var out=a;',
    'var a="s";function f(){a++}var out=a;',
    'var a="s";for(a in {x:1});var out=a;',
    'var a="s";var a;var out=a;',
    'var a="s";function a(){}var out=a;',
    'var a="s";if(1){var a="t"}var out=a;',
    'var a="s";function f(){delete a}var out=a;'
  ]) assert.equal(run(code), null, code);
});

test("block-scoped declarations of the name anywhere make it untouchable (not modelled)", () => {
  assert.equal(run('var a="s";function f(){{let a=1}return a}var out=f();'), null);
  assert.equal(run('var a="s";function f(){if(1){function a(){}}return a}var out=f();'), null);
  assert.equal(run('var a="s";function f(){class a{}return a}var out=f();'), null);
});

test("a shorthand property keeps its constant (it is a key and a reference at once)", () => {
  assert.equal(run('var a="s";var out={a};'), null);
});

test("with and eval make the chunk untouchable", () => {
  assert.equal(run('var a="s";var o={};with(o){a}var out=a;'), null);
  assert.equal(run('var a="s";function f(){return eval("a")}var out=f();'), null);
});

test("non-string and non-literal initialisers, and locals, are not candidates", () => {
  assert.equal(run('var a=1,b=null,c="x"+"y",d=`t`;var out=[a,b,c,d];'), null);
  assert.equal(run('function f(){var a="s";return a}var out=f();'), null);
});

test("an expression statement of the name stays an expression, not a directive", () => {
  const out = run('var a="use strict";function f(){a;return this}var out=typeof f();')!;
  assert.equal(out, 'function f(){("use strict");return this}var out=typeof f();');
  assert.equal(evaluate(out), evaluate('var a="use strict";function f(){a;return this}var out=typeof f();'));
});

test("exported names keep their binding", () => {
  assert.equal(run('var a="s";export { a };'), null);
  assert.equal(run('export var a="s";var out=a;'), null);
});

test("as a rollup plugin: renderChunk returns code and a source map, or null", () => {
  const plugin = inlineStrings() as any;
  const r = plugin.renderChunk('var a="s";var out=a;');
  assert.equal(r.code, 'var out="s";');
  assert.ok(r.map && r.map.mappings);
  assert.equal(plugin.renderChunk("var out=1;"), null);
});
