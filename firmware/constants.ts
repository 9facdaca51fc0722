/*
 * Topic suffixes and payload words, defined once and imported everywhere (firmware, simulator, tests).
 * Topics: <prefix>/<id>/<suffix>. See README "Topics".
 *
 * Memory: a string used in several places stays a top-level var after terser (a global on the device,
 * ~2-3 JsVars each for good); tools/inline-strings.js, run after terser, puts each one back into the code
 * that reads it (code stays in flash), so these names cost nothing at rest. (`const enum` would not help:
 * isolatedModules keeps it from being inlined across files.)
 */

export const T_STATUS = "status";
export const T_ERROR = "error";
export const T_PUMP = "pump";
export const T_PUMP_SET = "pump/set";
export const T_PUMP_ATTRIBUTES = "pump/attributes";
/** Followed by "/<interlock name>". */
export const T_INTERLOCK = "interlock";

export const ONLINE = "online";
export const OFFLINE = "offline";
export const ON = "ON";
export const OFF = "OFF";

/** Home Assistant publishes this on <discovery prefix>/status when it (re)starts. */
export const HA_STATUS = "status";

/** Reasons given in pump/attributes for the last change of the relay. */
export const R_BOOT = "boot";
export const R_COMMAND = "command";
export const R_TIMEOUT = "timeout";
export const R_LINK_LOST = "link-lost";
/** Followed by ":<interlock name>". */
export const R_INTERLOCK = "interlock";
export const R_DUTY = "duty-cycle";
/** Followed by ":<sensor name>". */
export const R_STALE = "stale";

/** Firmware version, reported in Home Assistant's device block. */
export const VERSION = "0.1.0";

/** Project name: Home Assistant's origin.name and device manufacturer. */
export const PROJECT = "pumpnode";

/** Quantity names: the last topic level of a reading, <prefix>/<id>[/<sensor>]/<quantity>. */
export const Q_TEMPERATURE = "temperature";
export const Q_HUMIDITY = "humidity";
export const Q_PRESSURE = "pressure";
