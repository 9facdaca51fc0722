// Small helpers over acorn's ESTree nodes, shared by the build's own code readers: tools/inline-strings.js
// (the rollup plugin) and tools/guard.ts (the dialect guard).

export function isNode(x) {
  return x !== null && typeof x === "object" && typeof x.type === "string";
}

/* Child nodes in source order. */
export function children(node) {
  var out = [];
  for (var key in node) {
    if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
    var v = node[key];
    if (Array.isArray(v)) {
      for (var i = 0; i < v.length; i++) if (isNode(v[i])) out.push({ node: v[i], key: key });
    } else if (isNode(v)) out.push({ node: v, key: key });
  }
  return out;
}

export function isFunction(node) {
  return node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";
}

/* Is this Identifier, reached as parent[key], a name that is not a variable reference? */
export function notAReference(parent, key) {
  if (!parent) return false;
  switch (parent.type) {
    case "MemberExpression":
      return key === "property" && !parent.computed;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return key === "key" && !parent.computed;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return key === "label";
    case "MetaProperty":
      return true;
  }
  return false;
}
