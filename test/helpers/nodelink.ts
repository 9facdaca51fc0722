/*
 * A real Connector over node:net for integration tests and host tools: byte strings in latin1 (one char per
 * byte, like Espruino's sockets), events as firmware/types.ts LinkEvents promises them (LINK_CLOSE at most
 * once, nothing after close()). Plus a real Clock on Node's timers.
 *
 *   const net = new NodeNet(broker.port);
 *   const client = new MqttClient(net.connector, realClock, options);
 *   net.last()!.destroy();   // kill the TCP socket abruptly (the broker publishes the Will)
 */
import { connect, type Socket } from "node:net";
import { LINK_OPEN, LINK_DATA, LINK_CLOSE, type Clock, type Connector, type Link, type LinkEvents } from "../../firmware/types";

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: any) => clearTimeout(id)
};

export class NodeNet {
  /** Every socket opened, in order. */
  sockets: Socket[] = [];
  readonly connector: Connector;

  constructor(port: number, host = "127.0.0.1") {
    this.connector = (events: LinkEvents): Link => {
      const s = connect({ port, host });
      this.sockets.push(s);
      s.setNoDelay(true);
      s.setEncoding("latin1");
      let done = false;
      let lastError = "";
      s.on("connect", () => {
        if (!done) events._on(LINK_OPEN);
      });
      s.on("data", (d: string) => {
        if (!done) events._on(LINK_DATA, d);
      });
      s.on("error", (e) => {
        lastError = e.message;
      });
      s.on("close", () => {
        if (done) return;
        done = true;
        events._on(LINK_CLOSE, lastError || "closed by peer");
      });
      return {
        write(data: string) {
          s.write(data, "latin1");
        },
        close() {
          // No event after this; what was written (DISCONNECT) is still flushed before the FIN.
          done = true;
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        }
      };
    };
  }

  last(): Socket | undefined {
    return this.sockets[this.sockets.length - 1];
  }

  /** Sockets not yet closed (must stay at most 1 for one client). */
  open(): number {
    return this.sockets.filter((s) => !s.destroyed && !s.closed).length;
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}
