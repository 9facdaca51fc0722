/*
 * Duty-cycle bookkeeping for the pump: how long it ran inside the sliding window that ends now.
 *
 * Memory-bounded: the last DUTY_SLOTS finished runs are kept as [start, end) pairs (milliseconds) in one
 * Float64Array allocated at construction. Runs that ended before the window are dropped. When a new run
 * arrives and every slot is still inside the window, the two oldest runs are merged into one interval
 * from the first start to the second end: the gap between them is then counted as running time. The
 * stored time can therefore only be over-counted (the pump is refused sooner), never under-counted. With
 * a minimum off time, more than DUTY_SLOTS runs per window are rare anyway.
 *
 * The guarantee the pump builds on this (see Pump): a run starting at s may last at most
 * cap - used(s). For any window (t - window, t] the running time is then at most the cap, because the
 * part of that window before s lies inside (s - window, s].
 *
 * Memory (Espruino keeps every module-level function alive, 5 JsVars + 1 per parameter): no class, ONE
 * function, called from ONE place in the pump so that the minifier inlines it there (no function object
 * at all), and the window's settings live in the same Float64Array as the runs, so the pump keeps one
 * field for all of it.
 */

export const DUTY_SLOTS = 8;
/** Layout of a duty window (a Float64Array of DUTY_SIZE): settings, ring state, then the runs. */
export const D_WINDOW_MS = 0;
/** The most running allowed inside the window (ms); read by the pump, not used here. */
export const D_CAP_MS = 1;
/** Slot of the oldest run. */
const D_HEAD = 2;
/** Runs stored. */
const D_COUNT = 3;
/** Slot k is [D_RUNS + 2k] (start) and [D_RUNS + 2k + 1] (end). */
const D_RUNS = 4;
export const DUTY_SIZE = D_RUNS + 2 * DUTY_SLOTS;

/**
 * Bring a duty window up to nowMs and measure it. Drops the runs that ended before the window ending at
 * nowMs; then, when startMs >= 0, records the finished run [startMs, endMs) (endMs <= nowMs; runs are
 * recorded in the order they ran).
 * @param w a Float64Array(DUTY_SIZE): w[D_WINDOW_MS] the window length (> 0), w[D_CAP_MS] the cap, the rest
 *   zero at first
 * @returns milliseconds of recorded running inside (nowMs - window, nowMs]
 */
export function dutyUsed(w: Float64Array, nowMs: number, startMs: number, endMs: number): number {
  var from = nowMs - w[D_WINDOW_MS];
  var k: number;
  // Drop runs that ended before the window that ends now.
  while (w[D_COUNT] > 0 && w[D_RUNS + w[D_HEAD] * 2 + 1] <= from) {
    w[D_HEAD] = (w[D_HEAD] + 1) % DUTY_SLOTS;
    w[D_COUNT]--;
  }
  if (startMs >= 0 && endMs > from) {
    if (w[D_COUNT] === DUTY_SLOTS) {
      // Merge the two oldest: the second one now starts where the oldest started.
      k = (w[D_HEAD] + 1) % DUTY_SLOTS;
      w[D_RUNS + k * 2] = w[D_RUNS + w[D_HEAD] * 2];
      w[D_HEAD] = k;
      w[D_COUNT]--;
    }
    k = (w[D_HEAD] + w[D_COUNT]) % DUTY_SLOTS;
    w[D_RUNS + k * 2] = startMs;
    w[D_RUNS + k * 2 + 1] = endMs;
    w[D_COUNT]++;
  }
  var used = 0;
  for (var j = 0; j < w[D_COUNT]; j++) {
    k = D_RUNS + ((w[D_HEAD] + j) % DUTY_SLOTS) * 2;
    var a = w[k] < from ? from : w[k];
    var b = w[k + 1] > nowMs ? nowMs : w[k + 1];
    if (b > a) used += b - a;
  }
  return used;
}
