// tools/unwrap-classes.js lifts TypeScript's ES5 class wrappers to module level (one scope array less per
// method on Espruino) and leaves anything it does not recognise exactly as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import ts from "typescript";
import { unwrapClasses } from "../tools/unwrap-classes.js";

function es5(src: string): string {
  return ts.transpileModule(src, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ESNext } }).outputText;
}
function run(code: string): string | null {
  const r = (unwrapClasses() as any).transform(code, "x.ts");
  return r ? r.code : null;
}

test("a plain class becomes a function and prototype assignments at module level", () => {
  const out = run(es5("export class Pump { _on = false; constructor(public n: number) {} start(): number { return this.n; } static make() { return new Pump(1); } }"))!;
  assert.doesNotMatch(out, /@class|return Pump;/);
  assert.match(out, /^function Pump\(n\) \{/m);
  assert.match(out, /^\s*Pump\.prototype\.start = function \(\) \{/m);
  assert.match(out, /^\s*Pump\.make = function \(\) \{/m);
  assert.match(out, /export \{ Pump \}/);
  // Same behaviour: evaluate both forms.
  const Before = new Function(es5("class A { constructor(public n: number) {} twice() { return this.n * 2; } }").replace(/export \{[^}]*\};?/, "") + "return A;")();
  const After = new Function(run(es5("class A { constructor(public n: number) {} twice() { return this.n * 2; } }"))!.replace(/export \{[^}]*\};?/, "") + "return A;")();
  assert.equal(new Before(21).twice(), new After(21).twice());
});

test("a class that extends another is left wrapped (its wrapper takes _super)", () => {
  const code = es5("class A {} export class B extends A { f() { return 1; } }");
  const out = run(code);
  assert.ok(out === null || /\(function \(_super\)/.test(out));
});

test("code without class wrappers is not touched", () => {
  assert.equal(run("var x = (function () { return 1; }());"), null);
  assert.equal(run("var A = /** @class */ (function () { function B() {} return B; }());"), null, "returns another name");
});
