/*
 * What Espruino 2v29 lacks, measured, not guessed: every global, static and prototype member of Node's
 * built-ins was probed with `typeof` on the interpreter's own Linux build (2v29.277, /work/espruino/bin),
 * and each name below came back "undefined". The simulator deletes them from every device context.
 *
 * Kept on purpose although Espruino lacks them: RegExp.prototype flag getters (V8's own String.replace
 * reads them) and Function.prototype.name (each function has its own). Not deleted either, because V8
 * needs them to run at all: Symbol-keyed iterator members.
 *
 * Espruino quirk not reproduced: `typeof Array.prototype.find` is "undefined" on Espruino although
 * `[].find` works; here both are functions.
 */

/** Globals missing on Espruino that a V8 context has. `globalThis` exists on Espruino 2v29 (measured) but
 * tools/guard.ts refuses it, so the simulator removes it too and keeps only Espruino's `global`. */
export const MISSING_GLOBALS = [
  "Symbol", "AggregateError", "EvalError", "RangeError", "URIError", "Intl", "BigUint64Array", "BigInt64Array",
  "Map", "BigInt", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "FinalizationRegistry", "WeakRef",
  "decodeURI", "encodeURI", "escape", "unescape", "SharedArrayBuffer", "Atomics", "WebAssembly", "globalThis"
];

/** "Ctor.member" (static) or "Ctor.prototype.member". */
export const MISSING_MEMBERS = [
  "Object.getOwnPropertySymbols", "Object.hasOwn", "Object.is", "Object.preventExtensions", "Object.seal",
  "Object.freeze", "Object.isExtensible", "Object.isFrozen", "Object.isSealed", "Object.fromEntries",
  "Object.prototype.isPrototypeOf", "Object.prototype.propertyIsEnumerable", "Object.prototype.toLocaleString",
  "Array.from", "Array.of", "Array.prototype.at", "Array.prototype.copyWithin", "Array.prototype.findLast",
  "Array.prototype.findLastIndex", "Array.prototype.lastIndexOf", "Array.prototype.keys", "Array.prototype.entries",
  "Array.prototype.values", "Array.prototype.flat", "Array.prototype.flatMap", "Array.prototype.reduceRight",
  "Array.prototype.toLocaleString", "Array.prototype.toReversed", "Array.prototype.toSorted",
  "Array.prototype.toSpliced", "Array.prototype.with",
  "String.fromCodePoint", "String.raw", "String.prototype.anchor", "String.prototype.at", "String.prototype.big",
  "String.prototype.blink", "String.prototype.bold", "String.prototype.codePointAt", "String.prototype.fontcolor",
  "String.prototype.fontsize", "String.prototype.fixed", "String.prototype.isWellFormed", "String.prototype.italics",
  "String.prototype.link", "String.prototype.localeCompare", "String.prototype.matchAll", "String.prototype.normalize",
  "String.prototype.search", "String.prototype.small", "String.prototype.strike", "String.prototype.sub",
  "String.prototype.sup", "String.prototype.toWellFormed", "String.prototype.trimStart", "String.prototype.trimLeft",
  "String.prototype.trimEnd", "String.prototype.trimRight", "String.prototype.toLocaleLowerCase",
  "String.prototype.toLocaleUpperCase", "String.prototype.replaceAll",
  "Number.isFinite", "Number.isInteger", "Number.isNaN", "Number.isSafeInteger", "Number.parseFloat",
  "Number.parseInt", "Number.MAX_SAFE_INTEGER", "Number.MIN_SAFE_INTEGER", "Number.EPSILON",
  "Number.prototype.toExponential", "Number.prototype.toPrecision", "Number.prototype.toLocaleString",
  "Math.acosh", "Math.asinh", "Math.atanh", "Math.cbrt", "Math.expm1", "Math.clz32", "Math.cosh", "Math.fround",
  "Math.hypot", "Math.imul", "Math.log1p", "Math.log2", "Math.log10", "Math.sinh", "Math.tanh", "Math.trunc",
  "Math.sign",
  "Promise.allSettled", "Promise.any", "Promise.race", "Promise.prototype.finally",
  "Date.UTC", "Date.prototype.toDateString", "Date.prototype.toTimeString", "Date.prototype.toGMTString",
  "Date.prototype.setUTCDate", "Date.prototype.setUTCFullYear", "Date.prototype.setUTCHours",
  "Date.prototype.setUTCMilliseconds", "Date.prototype.setUTCMinutes", "Date.prototype.setUTCMonth",
  "Date.prototype.setUTCSeconds", "Date.prototype.getYear", "Date.prototype.setYear", "Date.prototype.toLocaleString",
  "Date.prototype.toLocaleDateString", "Date.prototype.toLocaleTimeString",
  "RegExp.input", "RegExp.lastMatch", "RegExp.lastParen", "RegExp.leftContext", "RegExp.rightContext",
  "RegExp.prototype.compile",
  "Error.captureStackTrace", "Error.stackTraceLimit", "Error.prototype.name",
  "ArrayBuffer.isView", "ArrayBuffer.prototype.slice", "ArrayBuffer.prototype.resize",
  "DataView.prototype.getBigInt64", "DataView.prototype.setBigInt64", "DataView.prototype.getBigUint64",
  "DataView.prototype.setBigUint64",
  "Uint8Array.from", "Uint8Array.of", "Uint8Array.BYTES_PER_ELEMENT"
];
