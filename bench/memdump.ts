/*
 * Where the JsVars go: reads a variable dump taken on a real Espruino interpreter (E.dumpVariables(), one
 * line per variable: ref,size,flags,name,links...) and prints the dominator tree with retained sizes, so
 * each line says how many JsVars would be freed if that name (and what only it holds) went away.
 *
 *   BENCH_DUMP=/tmp/fw.csv ESPRUINO_BIN=... npx tsx bench/memory.ts firmware   # take the dump
 *   npx tsx bench/memdump.ts /tmp/fw.csv [minSize=4] [maxDepth=12] [dist/firmware.js]
 * With the bundle (and its .map beside it), mangled names are followed by their source names.
 */
import { readFileSync, existsSync } from "node:fs";
import { TraceMap, eachMapping } from "@jridgewell/trace-mapping";

/** Minified name -> the source names it stands for, from the bundle's source map. */
function sourceNames(bundle: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (!bundle || !existsSync(bundle + ".map")) return out;
  const lines = readFileSync(bundle, "latin1").split("\n");
  eachMapping(new TraceMap(readFileSync(bundle + ".map", "utf8")), (m) => {
    if (!m.name) return;
    const id = /^[A-Za-z_$][\w$]*/.exec(lines[m.generatedLine - 1].slice(m.generatedColumn));
    if (!id || id[0] === m.name) return;
    if (!out.has(id[0])) out.set(id[0], new Set());
    out.get(id[0])!.add(m.name);
  });
  return out;
}

interface V { ref: number; size: number; flags: number; label: string; links: number[] }

function parse(text: string): Map<number, V> {
  const vars = new Map<number, V>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s*\|?\s*\r?/, "").replace(/\r/g, "");
    const m = /^(\d+),(\d+),(\d+),(.*)$/.exec(line);
    if (!m) continue;
    let rest = m[4], label = "";
    if (rest.startsWith('"') || rest.startsWith("String ")) {
      // A quoted (JSON-like) string, possibly containing commas.
      const start = rest.indexOf('"');
      let i = start + 1;
      while (i < rest.length && rest[i] !== '"') i += rest[i] === "\\" ? 2 : 1;
      label = rest.slice(0, i + 1);
      rest = rest.slice(i + 2);
    } else {
      const c = rest.indexOf(",");
      label = rest.slice(0, c);
      rest = rest.slice(c + 1);
    }
    const links = rest.split(",").filter((x) => x !== "").map(Number);
    vars.set(Number(m[1]), { ref: Number(m[1]), size: Number(m[2]), flags: Number(m[3]), label, links });
  }
  return vars;
}

/** Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm". */
function dominators(vars: Map<number, V>, root: number): Map<number, number> {
  const order: number[] = [];
  const seen = new Set<number>();
  const stack: [number, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const v = vars.get(top[0]);
    const links = v ? v.links : [];
    if (top[1] < links.length) {
      const n = links[top[1]++];
      if (!seen.has(n) && vars.has(n)) { seen.add(n); stack.push([n, 0]); }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  const post = new Map<number, number>();
  order.forEach((r, i) => post.set(r, i));
  const preds = new Map<number, number[]>();
  for (const r of order) for (const n of vars.get(r)!.links) if (post.has(n)) {
    if (!preds.has(n)) preds.set(n, []);
    preds.get(n)!.push(r);
  }
  const idom = new Map<number, number>([[root, root]]);
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post.get(a)! < post.get(b)!) a = idom.get(a)!;
      while (post.get(b)! < post.get(a)!) b = idom.get(b)!;
    }
    return a;
  };
  const rpo = order.slice().reverse();
  let changed = true;
  while (changed) {
    changed = false;
    for (const n of rpo) {
      if (n === root) continue;
      let d: number | undefined;
      for (const p of preds.get(n) || []) if (idom.has(p)) d = d === undefined ? p : intersect(p, d);
      if (d !== undefined && idom.get(n) !== d) { idom.set(n, d); changed = true; }
    }
  }
  return idom;
}

function main(): void {
  const file = process.argv[2];
  const min = Number(process.argv[3] || 4), maxDepth = Number(process.argv[4] || 12);
  const vars = parse(readFileSync(file, "latin1"));
  const names = sourceNames(process.argv[5] || "");
  for (const v of vars.values()) {
    const m = /^"([A-Za-z_$][\w$]*)"$/.exec(v.label);
    if (m && names.has(m[1])) v.label += " (" + [...names.get(m[1])!].slice(0, 3).join("|") + ")";
  }
  const root = [...vars.values()].find((v) => v.flags === 1);
  if (!root) throw new Error("no root variable in the dump");
  const idom = dominators(vars, root.ref);
  const kids = new Map<number, number[]>();
  for (const [n, d] of idom) if (n !== d) {
    if (!kids.has(d)) kids.set(d, []);
    kids.get(d)!.push(n);
  }
  const retained = new Map<number, number>();
  const sizeOf = (n: number): number => {
    if (retained.has(n)) return retained.get(n)!;
    let s = vars.get(n)!.size;
    for (const k of kids.get(n) || []) s += sizeOf(k);
    retained.set(n, s);
    return s;
  };
  let total = 0;
  for (const v of vars.values()) total += v.size;
  const unreachable = total - sizeOf(root.ref);
  console.log(`${vars.size} variables, ${total} JsVars in all, ${sizeOf(root.ref)} reachable from the root, ${unreachable} not (locked by the interpreter or garbage)`);
  const show = (n: number, depth: number, prefix: string) => {
    const v = vars.get(n)!;
    const ks = (kids.get(n) || []).slice().sort((a, b) => sizeOf(b) - sizeOf(a));
    // A name and the value it alone holds print as one line.
    if (ks.length === 1 && /^"/.test(v.label) && !/^"/.test(vars.get(ks[0])!.label)) {
      const val = vars.get(ks[0])!;
      return show1(n, depth, prefix, v.label + " = " + (val.label || "fn/other") + " #" + val.ref, kids.get(ks[0]) || []);
    }
    return show1(n, depth, prefix, (v.label || "fn/other") + " #" + n, ks);
  };
  const show1 = (n: number, depth: number, prefix: string, text: string, ks: number[]) => {
    console.log(prefix + sizeOf(n) + "  " + text);
    if (depth >= maxDepth) return;
    const sorted = ks.slice().sort((a, b) => sizeOf(b) - sizeOf(a));
    let rest = 0, restN = 0;
    for (const k of sorted) {
      if (sizeOf(k) >= min) show(k, depth + 1, prefix + "  ");
      else { rest += sizeOf(k); restN++; }
    }
    if (restN) console.log(prefix + "  " + rest + "  (" + restN + " smaller)");
  };
  show(root.ref, 0, "");
}

main();
