/*
 * A fake Clock (firmware/types.ts) for tests: time only moves when the test says so, and timers fire in
 * due order (ties in the order they were set), each seeing now() equal to its due time.
 *   const c = new FakeClock(); driver.sample(cb); c.tick(20);   // fires what is due within 20 ms
 */
import type { Clock } from "../../firmware/types.ts";

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs?: number) {
    this.t = startMs === undefined ? 0 : startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): any {
    if (typeof fn !== "function") throw new TypeError("setTimeout: not a function");
    var id = ++this.seq;
    this.timers.push({ id: id, due: this.t + (ms > 0 ? ms : 0), fn: fn });
    return id;
  }

  clearTimeout(id: any): void {
    // Espruino throws on an undefined id (ARCHITECTURE.md): catch callers that would do that on a device.
    if (id === undefined) throw new Error("clearTimeout(undefined) stops every timer on Espruino");
    this.timers = this.timers.filter((x) => x.id !== id);
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }

  /** Advance time by ms, firing every timer due on the way (including ones those timers set). */
  tick(ms: number): void {
    var end = this.t + ms;
    for (;;) {
      var next: Timer | null = null;
      for (var x of this.timers) if (x.due <= end && (!next || x.due < next.due || (x.due === next.due && x.id < next.id))) next = x;
      if (!next) break;
      var n = next;
      this.timers = this.timers.filter((x) => x !== n);
      if (n.due > this.t) this.t = n.due;
      n.fn();
    }
    this.t = end;
  }

  /** Fire everything, however far away (bounded so a self-rearming timer cannot hang a test). */
  runAll(maxTimers?: number): void {
    var limit = maxTimers === undefined ? 10000 : maxTimers;
    while (this.timers.length && limit-- > 0) {
      var due = Math.min.apply(null, this.timers.map((x) => x.due));
      this.tick(due - this.t);
    }
    if (this.timers.length) throw new Error("FakeClock.runAll: timers still pending after the limit");
  }
}
