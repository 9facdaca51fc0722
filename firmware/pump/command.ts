/*
 * The pump command validator: a raw payload from <prefix>/<id>/pump/set becomes one of a closed set of
 * commands (ON, ON for N seconds, OFF) or a message saying what was wrong. Nothing else reaches the pump.
 *
 * Accepted (everything else is refused):
 *   ON / OFF                           any case, surrounding spaces/tabs/newlines ignored
 *   {"state":"ON"}  {"state":"OFF"}    state in any case; keys exactly as written
 *   {"state":"ON","seconds":N}         N a JSON number, 0 < N <= 86400 (fractions allowed); only with ON
 * Refused: empty, longer than 128 bytes, any byte outside printable ASCII (plus tab/CR/LF), unknown keys,
 * a key given twice, escapes in strings, nested objects or arrays, values of the wrong type, bare numbers,
 * "1", "true", JSON strings, text after the object.
 *
 * The JSON form is scanned by hand rather than with JSON.parse: JSON.parse silently keeps the last of two
 * duplicate keys ({"state":"OFF","state":"ON"}), accepts any nesting depth and costs a throw per error.
 */

/** One validated command. seconds: run length asked for, 0 = the configured maximum (always 0 with OFF). */
export interface PumpCommand {
  on: boolean;
  seconds: number;
}

const MAX_PAYLOAD = 128;
const MAX_SECONDS = 86400;
const EXPECTED = "expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}";
/** Index of the first non-digit at or after i. */
function digits(t: string, i: number): number {
  while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
  return i;
}

/**
 * JSON number grammar (RFC 8259 section 6): no leading "+", no leading zeros, no NaN/Infinity. Scanned by
 * hand because Espruino's regex engine has no "?" quantifier (tools/guard.ts).
 */
function isJsonNumber(t: string): boolean {
  var i = t[0] === "-" ? 1 : 0;
  var j = t[i] === "0" ? i + 1 : digits(t, i);
  if (j === i) return false;
  if (t[j] === ".") {
    i = j + 1;
    j = digits(t, i);
    if (j === i) return false;
  }
  if (t[j] === "e" || t[j] === "E") {
    i = t[j + 1] === "+" || t[j + 1] === "-" ? j + 2 : j + 1;
    j = digits(t, i);
    if (j === i) return false;
  }
  return j === t.length;
}

// One result object, filled by each successful call: a command per message costs no allocation.
var result: PumpCommand = { on: false, seconds: 0 };

function ok(on: boolean, seconds: number): PumpCommand {
  result.on = on;
  result.seconds = seconds;
  return result;
}

/** A short printable quote of (already printable) text for an error message. */
function quote(s: string): string {
  return JSON.stringify(s.length > 32 ? s.substr(0, 29) + "..." : s);
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charAt(i))) i++;
  return i;
}

/** What a value starting at s[i] looks like, for "must be X, got Y" messages. */
function kind(s: string, i: number): string {
  var c = s.charAt(i);
  if (c === "{" || c === "[") return "nested JSON (" + (c === "{" ? "an object" : "an array") + ")";
  if (c === "\"") return "a string";
  if (c === "" || c === "}" || c === ",") return "nothing";
  var end = i;
  while (end < s.length && end < i + 12 && ",}] \t\r\n".indexOf(s.charAt(end)) < 0) end++;
  return quote(s.substring(i, end));
}

/** End index (exclusive) of the string token opening at s[i] (a '"'), or -1 if unterminated or escaped. */
function stringEnd(s: string, i: number): number {
  var end = s.indexOf("\"", i + 1);
  if (end < 0) return -1;
  if (s.lastIndexOf("\\", end) > i) return -2;
  return end + 1;
}

/*
 * The JSON form: one flat object with the keys state (string) and seconds (number), each at most once.
 * s is trimmed and starts with "{".
 */
function parseObject(s: string): PumpCommand | string {
  var i = skipSpace(s, 1);
  var state = "";
  var seconds = -1;
  var hasSeconds = false;
  var end: number;
  if (s.charAt(i) === "}") i = skipSpace(s, i + 1);
  else {
    for (;;) {
      if (s.charAt(i) !== "\"") return "JSON command: expected a key in double quotes at offset " + i + ", got " + kind(s, i);
      end = stringEnd(s, i);
      if (end === -2) return "JSON command: escape sequences are not accepted";
      if (end < 0) return "JSON command: unterminated string at offset " + i;
      var key = s.substring(i + 1, end - 1);
      i = skipSpace(s, end);
      if (s.charAt(i) !== ":") return "JSON command: expected ':' after \"" + key + "\" at offset " + i;
      i = skipSpace(s, i + 1);
      if (key === "state") {
        if (state !== "") return "JSON command: duplicate key \"state\"";
        if (s.charAt(i) !== "\"") return "JSON command: state must be \"ON\" or \"OFF\", got " + kind(s, i);
        end = stringEnd(s, i);
        if (end === -2) return "JSON command: escape sequences are not accepted";
        if (end < 0) return "JSON command: unterminated string at offset " + i;
        state = s.substring(i + 1, end - 1);
        var upper = state.toUpperCase();
        if (upper !== "ON" && upper !== "OFF") return "JSON command: state must be \"ON\" or \"OFF\", got " + quote(state);
        state = upper;
        i = end;
      } else if (key === "seconds") {
        if (hasSeconds) return "JSON command: duplicate key \"seconds\"";
        hasSeconds = true;
        end = i;
        while (end < s.length && ",}] \t\r\n".indexOf(s.charAt(end)) < 0) end++;
        var token = s.substring(i, end);
        if (!isJsonNumber(token)) return "JSON command: seconds must be a number, got " + kind(s, i);
        seconds = parseFloat(token);
        if (!(seconds > 0 && seconds <= MAX_SECONDS)) return "JSON command: seconds must be more than 0 and at most " + MAX_SECONDS + ", got " + quote(token);
        i = end;
      } else {
        return "JSON command: unknown key " + quote(key) + " (known: state, seconds)";
      }
      i = skipSpace(s, i);
      var c = s.charAt(i);
      if (c === ",") {
        i = skipSpace(s, i + 1);
        continue;
      }
      if (c !== "}") return "JSON command: expected ',' or '}' at offset " + i + ", got " + kind(s, i);
      i = skipSpace(s, i + 1);
      break;
    }
  }
  if (i < s.length) return "JSON command: unexpected text after the object at offset " + i;
  if (state === "") return "JSON command: \"state\" is missing; " + EXPECTED;
  if (state === "OFF") return hasSeconds ? "JSON command: seconds only goes with \"ON\"" : ok(false, 0);
  return ok(true, hasSeconds ? seconds : 0);
}

/**
 * Validate one payload received on the pump's command topic. Never throws.
 * @param payload the message as an Espruino byte string (one char per byte)
 * @returns the command, or a one-line error message (printable ASCII, under 130 characters) saying what
 *   was expected and what arrived. The returned command object is reused by the next call: read it at once.
 */
export function parseCommand(payload: string): PumpCommand | string {
  if (typeof payload !== "string") return EXPECTED + ", got " + (payload === null ? "null" : typeof payload);
  var n = payload.length;
  if (n === 0) return EXPECTED + ", got an empty payload";
  if (n > MAX_PAYLOAD) return "payload too long: " + n + " bytes, at most " + MAX_PAYLOAD;
  for (var i = 0; i < n; i++) {
    var b = payload.charCodeAt(i);
    if (b > 126 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) {
      return "binary payload: byte 0x" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase() + " at offset " + i + "; " + EXPECTED;
    }
  }
  var s = payload.trim();
  if (s === "") return EXPECTED + ", got only whitespace";
  var upper = s.toUpperCase();
  if (upper === "ON") return ok(true, 0);
  if (upper === "OFF") return ok(false, 0);
  if (s.charAt(0) === "{") return parseObject(s);
  if (s.charAt(0) === "[") return "arrays are not accepted; " + EXPECTED;
  return EXPECTED + ", got " + quote(s);
}
