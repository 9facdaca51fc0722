/*
 * Sensor.close of every driver (bosch.ts, dht22.ts): one module function for all of them, which asks the
 * driver's own sample function to close (sample(false)). On the device every module-level function lives
 * as long as the firmware, ~5 JsVars each, configured or not: a close per driver would cost that for each
 * driver in the bundle, this costs it once.
 */

/** Sensor.close: `this` is the sensor, whose sample (bound to it) takes false as "close". */
export function closeSensor(this: { sample(arg: false): void }): void {
  this.sample(false);
}
