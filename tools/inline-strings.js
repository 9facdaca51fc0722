// Rollup output plugin, run after terser: puts top-level string constants back into the code that reads them.
//
// Terser keeps a string used in several places as one top-level `var x="pump/set"` when that is shorter
// than repeating it. On Espruino every top-level var is a global that lives as long as the firmware, ~2-3
// JsVars per string, while a literal in code costs nothing at rest: the code stays in flash (measured on
// 2v29). So for each top-level `var x = "<string literal>"` that is never assigned again, this plugin
// replaces every read of that binding by the literal and drops the declaration.
//
// The whole point is telling reads of the top-level x from reads of a local x: terser's mangled names are
// single letters, and every function reuses them. A name refers to the top-level binding only where no
// enclosing function declares it (parameter, var, function declaration, its own name as a function
// expression, `arguments`) and no enclosing catch clause binds it. Not references at all: property names
// (`o.x`, `{x: 1}`), labels. A candidate is left exactly as it is (declaration and every read) when
// anything about it is not plain: assigned or updated anywhere, declared twice at top level or other than
// by a plain top-level `var` statement, declared with let/const/class or as a function inside a block
// anywhere (block scoping, which this analysis does not model), a shorthand property `{x}`, exported.
// A chunk using `with` or `eval`, where names cannot be resolved by reading the code, is not touched.
import { parse } from "acorn";
import MagicString from "magic-string";
import { children, isFunction, notAReference } from "./ast.js";

function parseChunk(code) {
  try {
    return parse(code, { ecmaVersion: 2020, sourceType: "script" });
  } catch (e) {
    return parse(code, { ecmaVersion: 2020, sourceType: "module" });
  }
}

/* Names bound by a parameter or catch pattern (plain identifiers in ES5; patterns walked for safety). */
function patternNames(p, out) {
  if (!p) return out;
  if (p.type === "Identifier") out.push(p.name);
  else if (p.type === "AssignmentPattern") patternNames(p.left, out);
  else if (p.type === "RestElement") patternNames(p.argument, out);
  else if (p.type === "ArrayPattern") p.elements.forEach(function (e) { patternNames(e, out); });
  else if (p.type === "ObjectPattern") p.properties.forEach(function (q) { patternNames(q.type === "RestElement" ? q : q.value, out); });
  return out;
}

/*
 * The names a function body (or the program) declares for its whole scope: var declarations at any block
 * depth and function declarations, without entering nested functions. Block-scoped declarations (let,
 * const, class, a function declared inside a block) are collected into `blockScoped` instead: names this
 * plugin refuses to touch.
 */
function declaredNames(body, names, blockScoped) {
  function visit(node, depth) {
    if (node.type === "VariableDeclaration") {
      node.declarations.forEach(function (d) {
        patternNames(d.id, node.kind === "var" ? names : blockScoped);
      });
    } else if (node.type === "FunctionDeclaration") {
      names.push(node.id.name);
      if (depth > 0) blockScoped.push(node.id.name);
      return;
    } else if (node.type === "ClassDeclaration") {
      blockScoped.push(node.id.name);
    }
    if (isFunction(node) || node.type === "ClassExpression" || node.type === "ClassDeclaration") return;
    // depth 0: a statement of the body itself; a function declaration anywhere deeper is in a block.
    children(node).forEach(function (c) { visit(c.node, depth + 1); });
  }
  body.forEach(function (st) { visit(st, 0); });
}

/**
 * The transform itself, on a whole chunk: the new code and its MagicString (for the source map), or null
 * when nothing was inlined.
 */
export function inlineStringConstants(code) {
  var ast = parseChunk(code);

  // Top-level declarations: every name, how often, and which are candidates.
  var topNames = [];
  var blockScoped = [];
  declaredNames(ast.body, topNames, blockScoped);
  var count = Object.create(null);
  topNames.forEach(function (n) { count[n] = (count[n] || 0) + 1; });
  var candidates = Object.create(null); // name -> { decl, declarator, raw, refs: [], bad }
  ast.body.forEach(function (st) {
    if (st.type !== "VariableDeclaration" || st.kind !== "var") return;
    st.declarations.forEach(function (d) {
      if (d.id.type !== "Identifier" || !d.init || d.init.type !== "Literal" || typeof d.init.value !== "string") return;
      candidates[d.id.name] = { decl: st, declarator: d, raw: code.slice(d.init.start, d.init.end), refs: [], bad: count[d.id.name] !== 1 };
    });
  });
  blockScoped.forEach(function (n) { if (candidates[n]) candidates[n].bad = true; });
  if (!Object.keys(candidates).length) return null;

  var unsafe = false;
  // scopes: arrays of names, innermost last; a name found in any of them is not the top-level binding.
  function shadowed(scopes, name) {
    for (var i = scopes.length - 1; i >= 0; i--) if (scopes[i].indexOf(name) >= 0) return true;
    return false;
  }

  function walk(node, parent, key, scopes) {
    if (unsafe) return;
    if (node.type === "WithStatement") {
      unsafe = true;
      return;
    }
    if (node.type === "ImportDeclaration" || node.type === "ExportNamedDeclaration" || node.type === "ExportDefaultDeclaration" || node.type === "ExportAllDeclaration") {
      // Exported or imported names keep their binding; a declaration exported in place is walked as usual.
      (node.specifiers || []).forEach(function (sp) {
        var local = sp.local && sp.local.name;
        if (local && candidates[local]) candidates[local].bad = true;
      });
      if (node.declaration) {
        var exported = [];
        if (node.declaration.type === "VariableDeclaration") node.declaration.declarations.forEach(function (d) { patternNames(d.id, exported); });
        else if (node.declaration.id) exported.push(node.declaration.id.name);
        exported.forEach(function (n) { if (candidates[n]) candidates[n].bad = true; });
        walk(node.declaration, node, "declaration", scopes);
      }
      return;
    }
    if (node.type === "Identifier") {
      var c = candidates[node.name];
      if (node.name === "eval" && !notAReference(parent, key)) unsafe = true;
      if (!c || notAReference(parent, key) || shadowed(scopes, node.name)) return;
      if (parent.type === "VariableDeclarator" && key === "id") {
        if (parent !== c.declarator) c.bad = true; // another declaration of the top-level name
        return;
      }
      if ((parent.type === "Property" && parent.shorthand) ||
          (parent.type === "AssignmentExpression" && key === "left") ||
          parent.type === "UpdateExpression" ||
          ((parent.type === "ForInStatement" || parent.type === "ForOfStatement") && key === "left") ||
          (parent.type === "UnaryExpression" && parent.operator === "delete")) {
        c.bad = true;
        return;
      }
      c.refs.push({ node: node, statement: parent.type === "ExpressionStatement" });
      return;
    }
    if (isFunction(node)) {
      var own = [];
      if (node.type !== "ArrowFunctionExpression") own.push("arguments");
      if (node.type === "FunctionExpression" && node.id) own.push(node.id.name);
      node.params.forEach(function (p) { patternNames(p, own); });
      var inner = [];
      if (node.body.type === "BlockStatement") declaredNames(node.body.body, own, inner);
      inner.forEach(function (n) { if (candidates[n]) candidates[n].bad = true; });
      var fnScopes = scopes.concat([own]);
      // The function's own name (a declaration's binds in the enclosing scope) and its parameters are
      // declarations, not references; default values inside patterns are walked as expressions.
      node.params.forEach(function (p) { if (p.type !== "Identifier") walk(p, node, "params", fnScopes); });
      walk(node.body, node, "body", fnScopes);
      return;
    }
    if (node.type === "CatchClause") {
      var caught = patternNames(node.param, []);
      if (node.param && node.param.type !== "Identifier") walk(node.param, node, "param", scopes.concat([caught]));
      walk(node.body, node, "body", scopes.concat([caught]));
      return;
    }
    if (node.type === "ClassDeclaration" || node.type === "ClassExpression") {
      if (node.superClass) walk(node.superClass, node, "superClass", scopes);
      walk(node.body, node, "body", scopes);
      return;
    }
    children(node).forEach(function (ch) { walk(ch.node, node, ch.key, scopes); });
  }
  walk(ast, null, null, []);
  if (unsafe) return null;

  var names = Object.keys(candidates).filter(function (n) { return !candidates[n].bad; });
  if (!names.length) return null;
  var s = new MagicString(code);
  var dropped = new Set();
  names.forEach(function (n) {
    var c = candidates[n];
    c.refs.forEach(function (r) {
      // A literal as a whole statement would read as a directive ("use strict"): parenthesised, it is not.
      s.overwrite(r.node.start, r.node.end, r.statement ? "(" + c.raw + ")" : c.raw);
    });
    dropped.add(c.declarator);
  });
  // Drop the declarators, or the whole `var` statement when none of it is left.
  ast.body.forEach(function (st) {
    if (st.type !== "VariableDeclaration") return;
    var ds = st.declarations;
    var kept = ds.filter(function (d) { return !dropped.has(d); });
    if (kept.length === ds.length) return;
    if (!kept.length) {
      s.remove(st.start, st.end);
      return;
    }
    for (var i = 0; i < ds.length; i++) {
      if (!dropped.has(ds[i])) continue;
      var keptAfter = ds.slice(i + 1).some(function (d) { return !dropped.has(d); });
      // "a, x, b" -> "a, b": from x to the next declarator; "a, x" -> "a": from the end of the previous one.
      if (keptAfter) s.remove(ds[i].start, ds[i + 1].start);
      else s.remove(ds[i - 1].end, ds[i].end);
    }
  });
  return { code: s.toString(), magic: s, inlined: names };
}

export function inlineStrings() {
  return {
    name: "inline-strings",
    renderChunk(code) {
      var r = inlineStringConstants(code);
      return r ? { code: r.code, map: r.magic.generateMap({ hires: true }) } : null;
    }
  };
}
