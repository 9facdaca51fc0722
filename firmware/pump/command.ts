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
 *
 * Memory (Espruino keeps every module-level function alive, 5 JsVars + 1 per parameter, and the bundle's
 * minifier inlines a function called from one place): the whole validator is ONE function with no helper
 * functions and no module-level strings, and a command is a number, so it keeps nothing between calls.
 * Inlined into Pump.command, it costs no JsVar at all between commands.
 */

/** parseCommand's result for OFF. */
export const CMD_OFF = -1;
/** parseCommand's result for ON without seconds (run for the configured maximum). */
export const CMD_ON = 0;

const MAX_PAYLOAD = 128;
const MAX_SECONDS = 86400;

/**
 * Validate one payload received on the pump's command topic. Never throws, allocates nothing that
 * outlives the call.
 * @param payload the message as an Espruino byte string (one char per byte)
 * @returns CMD_OFF (-1), CMD_ON (0: ON for the configured maximum), N > 0 (ON for N seconds, at most
 *   86400, fractions allowed), or a one-line error message (printable ASCII, under 130 characters) saying
 *   what was expected and what arrived.
 */
export function parseCommand(payload: string): number | string {
  // Local, not module-level: a module-level string would be kept for good (about 1 JsVar per 10 bytes).
  var expected = "expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}";
  /** Whitespace around JSON tokens; a bare JSON token ends at one of DELIMITERS. */
  var SPACES = " \t\r\n";
  var DELIMITERS = ",}] \t\r\n";
  if (typeof payload !== "string") return expected + ", got " + (payload === null ? "null" : typeof payload);
  var n = payload.length;
  if (n === 0) return expected + ", got an empty payload";
  if (n > MAX_PAYLOAD) return "payload too long: " + n + " bytes, at most " + MAX_PAYLOAD;
  var i: number;
  for (i = 0; i < n; i++) {
    var b = payload.charCodeAt(i);
    if (b > 126 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) {
      return "binary payload: byte 0x" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase() + " at offset " + i + "; " + expected;
    }
  }
  var s = payload.trim();
  if (s === "") return expected + ", got only whitespace";
  var word = s.toUpperCase();
  if (word === "ON") return CMD_ON;
  if (word === "OFF") return CMD_OFF;
  if (s.charAt(0) === "[") return "arrays are not accepted; " + expected;

  // Errors that quote what arrived leave the loop below with: err (the message up to what arrived), got
  // (the text to quote, or null to describe the JSON token at offset i) and tail (the rest of the message).
  var err = expected + ", got ";
  var got: string | null = s;
  var tail = "";
  if (s.charAt(0) === "{") {
    // One flat object with the keys state (string) and seconds (number), each at most once.
    got = null;
    n = s.length;
    var state = "";
    var seconds = -1;
    var end: number;
    var c: string;
    i = 1;
    while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
    var closed = s.charAt(i) === "}";
    while (!closed) {
      // "key"
      if (s.charAt(i) !== "\"") {
        err = "JSON command: expected a key in double quotes at offset " + i + ", got ";
        break;
      }
      end = s.indexOf("\"", i + 1) + 1;
      if (end === 0) return "JSON command: unterminated string at offset " + i;
      c = s.substring(i + 1, end - 1);
      if (c.indexOf("\\") >= 0) return "JSON command: escape sequences are not accepted";
      var key = c;
      i = end;
      while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
      if (s.charAt(i) !== ":") return "JSON command: expected ':' after \"" + key + "\" at offset " + i;
      i++;
      while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
      // value
      if (key === "state") {
        if (state !== "") return "JSON command: duplicate key \"state\"";
        err = "JSON command: state must be \"ON\" or \"OFF\", got ";
        if (s.charAt(i) !== "\"") break;
        end = s.indexOf("\"", i + 1) + 1;
        if (end === 0) return "JSON command: unterminated string at offset " + i;
        c = s.substring(i + 1, end - 1);
        if (c.indexOf("\\") >= 0) return "JSON command: escape sequences are not accepted";
        state = c.toUpperCase();
        if (state !== "ON" && state !== "OFF") {
          got = c;
          break;
        }
        i = end;
      } else if (key === "seconds") {
        if (seconds !== -1) return "JSON command: duplicate key \"seconds\"";
        end = i;
        while (end < n && DELIMITERS.indexOf(s.charAt(end)) < 0) end++;
        c = s.substring(i, end);
        // JSON number grammar (RFC 8259 section 6: no "+", no leading zeros, no NaN/Infinity) as a state
        // machine, since Espruino's regex engine has no "?" (tools/guard.ts). Accepting states: 2 3 5 8.
        //  0 start, 1 "-", 2 leading "0", 3 integer digits, 4 ".", 5 fraction digits, 6 "e", 7 exponent sign,
        //  8 exponent digits; -1 not a number.
        var st = 0;
        for (var k = 0; k < c.length && st >= 0; k++) {
          var ch = c.charAt(k);
          var digit = ch >= "0" && ch <= "9";
          if (st === 0 && ch === "-") st = 1;
          else if (st <= 1 && ch === "0") st = 2;
          else if ((st <= 1 || st === 3) && digit) st = 3;
          else if ((st === 2 || st === 3) && ch === ".") st = 4;
          else if ((st === 4 || st === 5) && digit) st = 5;
          else if ((st === 2 || st === 3 || st === 5) && (ch === "e" || ch === "E")) st = 6;
          else if (st === 6 && (ch === "+" || ch === "-")) st = 7;
          else if (st >= 6 && digit) st = 8;
          else st = -1;
        }
        if (st !== 2 && st !== 3 && st !== 5 && st !== 8) {
          err = "JSON command: seconds must be a number, got ";
          break;
        }
        seconds = parseFloat(c);
        if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
          err = "JSON command: seconds must be more than 0 and at most " + MAX_SECONDS + ", got ";
          got = c;
          break;
        }
        i = end;
      } else {
        err = "JSON command: unknown key ";
        got = key;
        tail = " (known: state, seconds)";
        break;
      }
      // , or }
      while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
      c = s.charAt(i);
      if (c === "}") closed = true;
      else if (c === ",") {
        i++;
        while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
      } else {
        err = "JSON command: expected ',' or '}' at offset " + i + ", got ";
        break;
      }
    }
    if (closed) {
      i++;
      while (i < n && SPACES.indexOf(s.charAt(i)) >= 0) i++;
      if (i < n) return "JSON command: unexpected text after the object at offset " + i;
      if (state === "") return "JSON command: \"state\" is missing; " + expected;
      if (state === "OFF") return seconds === -1 ? CMD_OFF : "JSON command: seconds only goes with \"ON\"";
      return seconds === -1 ? CMD_ON : seconds;
    }
    if (got === null) {
      // Describe the token at i: what a value starting there looks like.
      c = s.charAt(i);
      if (c === "{" || c === "[") return err + "nested JSON (" + (c === "{" ? "an object" : "an array") + ")";
      if (c === "\"") return err + "a string";
      if (c === "" || c === "}" || c === ",") return err + "nothing";
      end = i;
      while (end < n && end < i + 12 && DELIMITERS.indexOf(s.charAt(end)) < 0) end++;
      got = s.substring(i, end);
    }
  }
  // A short printable quote of (already printable) text.
  return err + JSON.stringify(got.length > 32 ? got.substr(0, 29) + "..." : got) + tail;
}
