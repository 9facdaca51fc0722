// Rollup plugin: flattens TypeScript's ES5 class wrappers.
//
// TypeScript emits each class as `var X = /** @class */ (function () { function X() {} X.prototype.m = ...;
// return X; }());`. On Espruino every function remembers the chain of scopes it was created in, and a
// method created inside that wrapper keeps an extra scope array: measured on 2v29 with 12-byte JsVars, 50
// methods cost 463 JsVars wrapped and 258 flat. The wrapper buys nothing in a bundle (rollup already gives
// each module's names their own identifiers), so this plugin lifts its statements to module level:
// `function X() {} X.prototype.m = ...;`. Only plain wrappers are touched (no parameters, so no `extends`,
// and ending in `return X`); anything else is left as TypeScript wrote it.
import { parse } from "acorn";
import MagicString from "magic-string";

function unwrap(s, code, node, decl, keepFrom) {
  var call = decl.init;
  if (!call || call.type !== "CallExpression" || call.arguments.length) return false;
  var fn = call.callee;
  if (fn.type !== "FunctionExpression" || fn.params.length) return false;
  if (code.slice(decl.id.end, call.start).indexOf("@class") < 0) return false;
  var body = fn.body.body;
  var last = body[body.length - 1];
  if (!last || last.type !== "ReturnStatement" || !last.argument || last.argument.name !== decl.id.name) return false;
  var hasCtor = body.some(function (st) { return st.type === "FunctionDeclaration" && st.id.name === decl.id.name; });
  if (!hasCtor) return false;
  s.remove(keepFrom, body[0].start);
  s.remove(last.start, node.end);
  return true;
}

export function unwrapClasses() {
  return {
    name: "unwrap-classes",
    transform(code) {
      if (code.indexOf("@class") < 0) return null;
      var ast = parse(code, { ecmaVersion: 2020, sourceType: "module" });
      var s = new MagicString(code);
      var changed = false;
      for (var i = 0; i < ast.body.length; i++) {
        var node = ast.body[i];
        var v = node.type === "ExportNamedDeclaration" ? node.declaration : node;
        if (!v || v.type !== "VariableDeclaration" || v.declarations.length !== 1) continue;
        if (unwrap(s, code, node, v.declarations[0], node === v ? node.start : v.start)) changed = true;
      }
      return changed ? { code: s.toString(), map: s.generateMap({ hires: true }) } : null;
    }
  };
}
