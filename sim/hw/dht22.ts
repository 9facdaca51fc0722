/*
 * Virtual DHT22 / AM2302 for the simulator (sim/hw/types.ts DHT22Device) and driver tests.
 * frame() turns the physical values into the 5-byte frame of the AM2302 data sheet section 5:
 * humidity x10 (16 bits), temperature x10 (15 bits, bit 15 = below zero), checksum = low byte of the sum.
 * Faults (fail):
 *   "checksum"   the checksum byte is off by one
 *   "noresponse" frame() returns null (the sensor never answers)
 *   "short"      frame() returns the first shortBytes bytes only (the sensor stops mid-frame)
 * dht22Edges() gives the line levels the sensor drives after the host releases the line, with the data
 * sheet's timing (section 7.2), for runtimes and tests that replay them through setWatch.
 */
import type { DHT22Device } from "./types.ts";

export class DHT22Model implements DHT22Device {
  pin: number;
  /** degC, -40..80 on the real part (values outside are encoded anyway, for tests). */
  temperature = 21;
  /** %RH, 0..100. */
  humidity = 50;
  fail: "checksum" | "noresponse" | "short" | null = null;
  /** Bytes sent when fail is "short" (0..4). */
  shortBytes = 3;
  /** Frames asked for (start pulses answered or not). */
  reads = 0;

  constructor(pin: number) {
    this.pin = pin;
  }

  frame(): Uint8Array | null {
    this.reads++;
    if (this.fail === "noresponse") return null;
    var f = encodeFrame(this.temperature, this.humidity);
    if (this.fail === "checksum") f[4] = (f[4] + 1) & 0xff;
    if (this.fail === "short") return f.slice(0, Math.max(0, Math.min(4, this.shortBytes)));
    return f;
  }
}

/** The 5 bytes for degC and %RH (values rounded to 0.1, magnitude limited to 15 bits). */
export function encodeFrame(temperature: number, humidity: number): Uint8Array {
  var f = new Uint8Array(5);
  var h = Math.max(0, Math.min(0xffff, Math.round(humidity * 10)));
  var t = Math.min(0x7fff, Math.round(Math.abs(temperature) * 10));
  f[0] = h >> 8;
  f[1] = h & 0xff;
  f[2] = (t >> 8) | (temperature < 0 && t > 0 ? 0x80 : 0);
  f[3] = t & 0xff;
  f[4] = (f[0] + f[1] + f[2] + f[3]) & 0xff;
  return f;
}

/** One level change on the line: state after the edge, time in seconds. */
export interface Edge {
  state: boolean;
  time: number;
}

// AM2302 section 7.2, typical values in seconds.
const T_GO = 0.00003; // release -> sensor pulls low (20-40 us)
const T_REL = 0.00008; // response low
const T_REH = 0.00008; // response high
const T_LOW = 0.00005; // bit start low
const T_H0 = 0.000026; // high of a 0
const T_H1 = 0.00007; // high of a 1
const T_EN = 0.00005; // end: sensor holds low, then releases

/**
 * Edges the sensor produces for a frame after the host releases the line at t0 (seconds): the rising
 * edge of the release, the response, 8 bits per byte MSB first, and the end pulse. A frame of fewer
 * than 5 bytes stops after its last bit, leaving the line high (no end pulse): a short frame.
 */
export function dht22Edges(frame: Uint8Array, t0: number): Edge[] {
  var out: Edge[] = [{ state: true, time: t0 }];
  var t = t0 + T_GO;
  out.push({ state: false, time: t });
  t += T_REL;
  out.push({ state: true, time: t });
  t += T_REH;
  for (var i = 0; i < frame.length; i++) {
    for (var b = 7; b >= 0; b--) {
      out.push({ state: false, time: t });
      t += T_LOW;
      out.push({ state: true, time: t });
      t += (frame[i] >> b) & 1 ? T_H1 : T_H0;
    }
  }
  if (frame.length >= 5) {
    out.push({ state: false, time: t });
    out.push({ state: true, time: t + T_EN });
  }
  return out;
}
