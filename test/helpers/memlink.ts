/*
 * In-memory links for unit tests of anything that takes a Connector (firmware/types.ts). The test plays
 * the far end: it sees every byte the client wrote and decides when the link opens, what arrives and
 * when it dies.
 *
 *   const net = new MemNet();
 *   const client = new MqttClient(net.connector, clock, options);
 *   client.start();
 *   const link = net.last();      // the MemLink the client just asked for
 *   link.open();                  // -> events._on(LINK_OPEN)
 *   link.takeWritten();           // bytes the client wrote since the last take, one string
 *   link.push("\x20\x02\x00\x00"); // -> events._on(LINK_DATA, ...)
 *   link.drop("reset");           // the far end goes away -> events._on(LINK_CLOSE, "reset")
 *   net.failNext = "Unable to create socket"; // the next connector call throws this
 *
 * A MemLink refuses writes after it closed (throws), and counts events delivered after close() in
 * `eventsAfterClose` (must stay 0: Link.close() promises no more events).
 */
import { LINK_OPEN, LINK_DATA, LINK_CLOSE, type Connector, type Link, type LinkEvents } from "../../firmware/types";

export class MemLink implements Link {
  readonly events: LinkEvents;
  /** Every write, in order. */
  written: string[] = [];
  private taken = 0;
  /** close() was called by the client. */
  closedByClient = false;
  /** drop() was called by the test. */
  dropped = false;
  isOpen = false;
  eventsAfterClose = 0;

  constructor(events: LinkEvents) {
    this.events = events;
  }

  // Client side (Link).
  write(data: string): void {
    if (typeof data !== "string") throw new Error("MemLink.write: not a string");
    if (this.closedByClient || this.dropped) throw new Error("MemLink.write after close");
    this.written.push(data);
  }

  close(): void {
    this.closedByClient = true;
    this.isOpen = false;
  }

  // Far side (the test).
  get alive(): boolean {
    return !this.closedByClient && !this.dropped;
  }

  open(): void {
    if (!this.alive) return void this.eventsAfterClose++;
    this.isOpen = true;
    this.events._on(LINK_OPEN);
  }

  /** Deliver bytes (a byte string, or numbers 0..255). */
  push(data: string | number[]): void {
    if (!this.alive) return void this.eventsAfterClose++;
    this.events._on(LINK_DATA, typeof data === "string" ? data : String.fromCharCode.apply(null, data));
  }

  drop(reason?: string): void {
    if (!this.alive) return void this.eventsAfterClose++;
    this.dropped = true;
    this.isOpen = false;
    this.events._on(LINK_CLOSE, reason);
  }

  /** All bytes written since the last call, as one byte string. */
  takeWritten(): string {
    const s = this.written.slice(this.taken).join("");
    this.taken = this.written.length;
    return s;
  }
}

export class MemNet {
  links: MemLink[] = [];
  /** When set, the next connector call throws an Error with this message (then it is cleared). */
  failNext: string | null = null;
  /** Number of connector calls, thrown ones included. */
  attempts = 0;
  readonly connector: Connector;

  constructor() {
    this.connector = (events: LinkEvents): Link => {
      this.attempts++;
      if (this.failNext !== null) {
        const m = this.failNext;
        this.failNext = null;
        throw new Error(m);
      }
      const l = new MemLink(events);
      this.links.push(l);
      return l;
    };
  }

  last(): MemLink {
    return this.links[this.links.length - 1];
  }

  /** Links neither closed by the client nor dropped: must never exceed 1. */
  alive(): number {
    return this.links.filter((l) => l.alive).length;
  }
}
