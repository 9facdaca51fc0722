/*
 * A fake Clock (firmware/types.ts) for unit tests: time stands still until the test moves it, and timers
 * fire in due order while it moves, including timers set by other timers' callbacks.
 *
 *   const clock = new FakeClock();          // now() === 0
 *   const thing = new Thing(clock);          // anything taking a Clock
 *   clock.tick(999);                         // advance 999 ms, firing whatever fell due, in order
 *   clock.advance(1);                        // same as tick
 *   clock.pending();                         // timers still set (leak checks)
 *   clock.next();                            // ms until the next timer, or -1
 *   clock.runNext();                         // jump to the next timer and fire it; returns its delay, or -1
 *   clock.runAll();                          // fire everything, however far away
 *
 * Like Espruino's own timers (ARCHITECTURE.md, "Espruino timer semantics"), clearing with an undefined
 * id throws, so code that would break on a device breaks here too. Clearing an id that already fired or
 * was cleared is counted in `staleClears` (it may throw on a device) instead of thrown: a test can assert
 * it stays 0. Timer ids are numbers starting at 1.
 */
import type { Clock } from "../../firmware/types";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];
  /** clearTimeout calls on ids that were not set any more. */
  staleClears = 0;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    if (typeof fn !== "function") throw new Error("FakeClock.setTimeout: not a function");
    if (!(ms >= 0)) ms = 0;
    const timer = { id: ++this.seq, at: this.t + ms, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(id: any): void {
    if (id === undefined) throw new Error("clearTimeout(undefined): on Espruino this throws (and clearTimeout() clears every timer)");
    const i = this.timers.findIndex((x) => x.id === id);
    if (i < 0) this.staleClears++;
    else this.timers.splice(i, 1);
  }

  /** Advance time by ms, firing every timer that falls due, earliest first (ties in the order set). */
  tick(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > end) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }

  /** Same as tick(ms). */
  advance(ms: number): void {
    this.tick(ms);
  }

  /** Number of timers set and not yet fired or cleared. */
  pending(): number {
    return this.timers.length;
  }

  /** Milliseconds until the next timer falls due, or -1 when none is set. */
  next(): number {
    const n = this.earliest();
    return n ? n.at - this.t : -1;
  }

  /** Jump to the next timer and fire it (and any due at the same instant). Returns the jump, or -1. */
  runNext(): number {
    const d = this.next();
    if (d >= 0) this.tick(d);
    return d;
  }

  /** Fire everything, however far away (bounded so a self-rearming timer cannot hang a test). */
  runAll(maxTimers = 10000): void {
    while (this.timers.length && maxTimers-- > 0) this.runNext();
    if (this.timers.length) throw new Error("FakeClock.runAll: timers still pending after the limit");
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) if (!best || x.at < best.at) best = x;
    return best;
  }
}
