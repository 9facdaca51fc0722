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
 * cap - usedMs(s). For any window (t - window, t] the running time is then at most the cap, because the
 * part of that window before s lies inside (s - window, s].
 */

export const DUTY_SLOTS = 8;

export class DutyWindow {
  private _windowMs: number;
  /** Pairs start,end; slot k at [2k, 2k+1]; oldest at _head. */
  private _runs: Float64Array;
  private _head: number;
  private _count: number;

  /** @param windowMs length of the sliding window in milliseconds (> 0) */
  constructor(windowMs: number) {
    this._windowMs = windowMs;
    this._runs = new Float64Array(DUTY_SLOTS * 2);
    this._head = 0;
    this._count = 0;
  }

  /** Record one finished run [startMs, endMs), endMs being now. */
  add(startMs: number, endMs: number): void {
    var runs = this._runs;
    // Drop runs that ended before the window that ends now.
    while (this._count > 0 && runs[this._head * 2 + 1] <= endMs - this._windowMs) {
      this._head = (this._head + 1) % DUTY_SLOTS;
      this._count--;
    }
    if (this._count === DUTY_SLOTS) {
      // Merge the two oldest: the second one now starts where the oldest started.
      var second = (this._head + 1) % DUTY_SLOTS;
      runs[second * 2] = runs[this._head * 2];
      this._head = second;
      this._count--;
    }
    var k = (this._head + this._count) % DUTY_SLOTS;
    runs[k * 2] = startMs;
    runs[k * 2 + 1] = endMs;
    this._count++;
  }

  /** Milliseconds of recorded running inside (nowMs - window, nowMs]. */
  usedMs(nowMs: number): number {
    var from = nowMs - this._windowMs;
    var used = 0;
    for (var j = 0; j < this._count; j++) {
      var k = (this._head + j) % DUTY_SLOTS;
      var a = this._runs[k * 2];
      var b = this._runs[k * 2 + 1];
      if (a < from) a = from;
      if (b > nowMs) b = nowMs;
      if (b > a) used += b - a;
    }
    return used;
  }
}
