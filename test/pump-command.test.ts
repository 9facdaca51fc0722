/*
 * The pump command validator (firmware/pump/command.ts) as a table: payload in, command or error out.
 * Errors are matched by a fragment that names what was wrong, so the message stays useful on the error topic.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommand, CMD_OFF, CMD_ON } from "../firmware/pump/command.ts";

const EXPECTED = "expected ON, OFF or {\"state\":\"ON\",\"seconds\":N}";

// [payload, expected command] accepted.
const ACCEPTED: [string, boolean, number][] = [
  ["ON", true, 0],
  ["OFF", false, 0],
  ["on", true, 0],
  ["oN", true, 0],
  ["Off", false, 0],
  [" ON ", true, 0],
  ["\tOFF\r\n", false, 0],
  ["{\"state\":\"ON\"}", true, 0],
  ["{\"state\":\"OFF\"}", false, 0],
  ["{\"state\":\"on\"}", true, 0],
  ["{\"state\":\"ON\",\"seconds\":10}", true, 10],
  ["{\"seconds\":10,\"state\":\"ON\"}", true, 10],
  ["  { \"state\" : \"ON\" , \"seconds\" : 2.5 }\n", true, 2.5],
  ["{\"state\":\"ON\",\"seconds\":86400}", true, 86400],
  ["{\"state\":\"ON\",\"seconds\":1e2}", true, 100],
  ["{\"state\":\"ON\",\"seconds\":0.001}", true, 0.001]
];

// [name, payload, fragment of the error message]
const REFUSED: [string, string, string][] = [
  ["empty", "", EXPECTED + ", got an empty payload"],
  ["only whitespace", "  \t\r\n", "got only whitespace"],
  ["oversized", "O".repeat(129), "payload too long: 129 bytes, at most 128"],
  ["oversized JSON", "{\"state\":\"ON\"" + " ".repeat(120) + "}", "payload too long"],
  ["NUL byte", "ON\x00", "binary payload: byte 0x00 at offset 2"],
  ["high byte", "\xFFON", "binary payload: byte 0xFF at offset 0"],
  ["UTF-8 bytes", "\xC3\x96N", "byte 0xC3 at offset 0"],
  ["escape char", "\x1b[2J", "byte 0x1B"],
  ["vertical tab", "ON\x0b", "byte 0x0B"],
  ["other word", "MAYBE", EXPECTED + ", got \"MAYBE\""],
  ["1", "1", EXPECTED + ", got \"1\""],
  ["0", "0", "got \"0\""],
  ["true", "true", "got \"true\""],
  ["null", "null", "got \"null\""],
  ["number", "3.14", "got \"3.14\""],
  ["ON with seconds as text", "ON 10", "got \"ON 10\""],
  ["ONN", "ONN", "got \"ONN\""],
  ["long word truncated", "X".repeat(100), "got \"" + "X".repeat(29) + "...\""],
  ["JSON string", "\"ON\"", "got \"\\\"ON\\\"\""],
  ["array", "[\"ON\"]", "arrays are not accepted"],
  ["empty object", "{}", "\"state\" is missing"],
  ["seconds only", "{\"seconds\":5}", "\"state\" is missing"],
  ["state not a string", "{\"state\":1}", "state must be \"ON\" or \"OFF\", got \"1\""],
  ["state true", "{\"state\":true}", "state must be \"ON\" or \"OFF\", got \"true\""],
  ["state other word", "{\"state\":\"MAYBE\"}", "state must be \"ON\" or \"OFF\", got \"MAYBE\""],
  ["nested object", "{\"state\":{\"state\":\"ON\"}}", "got nested JSON (an object)"],
  ["nested array", "{\"state\":[\"ON\"]}", "got nested JSON (an array)"],
  ["nested seconds", "{\"state\":\"ON\",\"seconds\":{\"n\":1}}", "seconds must be a number, got nested JSON (an object)"],
  ["wrong case key", "{\"State\":\"ON\"}", "unknown key \"State\" (known: state, seconds)"],
  ["unknown key", "{\"state\":\"ON\",\"force\":true}", "unknown key \"force\""],
  ["duplicate state", "{\"state\":\"OFF\",\"state\":\"ON\"}", "duplicate key \"state\""],
  ["duplicate seconds", "{\"state\":\"ON\",\"seconds\":1,\"seconds\":9}", "duplicate key \"seconds\""],
  ["escape in key", "{\"st\\u0061te\":\"ON\"}", "escape sequences are not accepted"],
  ["escape in value", "{\"state\":\"O\\u004E\"}", "escape sequences are not accepted"],
  ["unterminated", "{\"state\":\"ON}", "unterminated string"],
  ["missing brace", "{\"state\":\"ON\"", "expected ',' or '}'"],
  ["trailing comma", "{\"state\":\"ON\",}", "expected a key in double quotes"],
  ["single quotes", "{'state':'ON'}", "expected a key in double quotes"],
  ["missing colon", "{\"state\" \"ON\"}", "expected ':' after \"state\""],
  ["text after object", "{\"state\":\"ON\"} ON", "unexpected text after the object"],
  ["two objects", "{\"state\":\"ON\"}{\"state\":\"ON\"}", "unexpected text after the object"],
  ["seconds with OFF", "{\"state\":\"OFF\",\"seconds\":5}", "seconds only goes with \"ON\""],
  ["seconds zero", "{\"state\":\"ON\",\"seconds\":0}", "seconds must be more than 0 and at most 86400, got \"0\""],
  ["seconds negative", "{\"state\":\"ON\",\"seconds\":-5}", "more than 0 and at most 86400, got \"-5\""],
  ["seconds negative zero", "{\"state\":\"ON\",\"seconds\":-0}", "more than 0"],
  ["seconds huge", "{\"state\":\"ON\",\"seconds\":86401}", "at most 86400, got \"86401\""],
  ["seconds overflow", "{\"state\":\"ON\",\"seconds\":1e999}", "at most 86400, got \"1e999\""],
  ["seconds NaN", "{\"state\":\"ON\",\"seconds\":NaN}", "seconds must be a number, got \"NaN\""],
  ["seconds Infinity", "{\"state\":\"ON\",\"seconds\":Infinity}", "seconds must be a number"],
  ["seconds as string", "{\"state\":\"ON\",\"seconds\":\"10\"}", "seconds must be a number, got a string"],
  ["seconds leading zero", "{\"state\":\"ON\",\"seconds\":010}", "seconds must be a number, got \"010\""],
  ["seconds plus sign", "{\"state\":\"ON\",\"seconds\":+5}", "seconds must be a number, got \"+5\""],
  ["seconds bare dot", "{\"state\":\"ON\",\"seconds\":.5}", "seconds must be a number, got \".5\""],
  ["seconds hex", "{\"state\":\"ON\",\"seconds\":0x10}", "seconds must be a number, got \"0x10\""],
  ["seconds with unit", "{\"state\":\"ON\",\"seconds\":10s}", "seconds must be a number, got \"10s\""],
  ["seconds null", "{\"state\":\"ON\",\"seconds\":null}", "seconds must be a number, got \"null\""],
  ["seconds missing", "{\"state\":\"ON\",\"seconds\":}", "seconds must be a number, got nothing"]
];

/** The command as a number (CMD_OFF, CMD_ON or seconds) for [on, seconds]. */
const expect = (on: boolean, seconds: number) => (on ? (seconds > 0 ? seconds : CMD_ON) : CMD_OFF);

test("parseCommand accepts ON/OFF text and the JSON form", () => {
  for (const [payload, on, seconds] of ACCEPTED) {
    const c = parseCommand(payload);
    assert.equal(typeof c, "number", JSON.stringify(payload) + " -> " + JSON.stringify(c));
    assert.equal(c, expect(on, seconds), JSON.stringify(payload));
  }
});

test("parseCommand refuses garbage with a message naming what was wrong", () => {
  for (const [name, payload, fragment] of REFUSED) {
    const c = parseCommand(payload);
    assert.equal(typeof c, "string", name + ": " + JSON.stringify(payload) + " was accepted as " + JSON.stringify(c));
    assert.ok((c as string).includes(fragment), name + ": " + JSON.stringify(c) + " lacks " + JSON.stringify(fragment));
  }
});

test("parseCommand messages are short printable ASCII (they go out on the error topic)", () => {
  for (const [name, payload] of REFUSED) {
    const m = parseCommand(payload) as string;
    assert.match(m, /^[\x20-\x7e]+$/, name);
    assert.ok(m.length <= 130, name + ": " + m.length + " characters");
  }
});

test("parseCommand never throws on values that are not strings", () => {
  for (const v of [undefined, null, 1, {}, [], true]) {
    const m = parseCommand(v as any);
    assert.equal(typeof m, "string");
    assert.ok((m as string).startsWith(EXPECTED));
  }
});

test("parseCommand returns a number for a command (no allocation per command)", () => {
  assert.equal(parseCommand("ON"), CMD_ON);
  assert.equal(parseCommand("OFF"), CMD_OFF);
  assert.equal(parseCommand("{\"state\":\"ON\",\"seconds\":3}"), 3);
});

test("parseCommand accepts exactly 128 bytes", () => {
  const p = "{\"state\":\"ON\"" + " ".repeat(128 - 15) + "}";
  assert.equal(p.length, 128 - 1);
  assert.equal(parseCommand(p + " "), CMD_ON);
  assert.equal(typeof parseCommand(p + "  "), "string");
});
