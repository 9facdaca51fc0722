/*
 * The small interfaces between the firmware's stages. Board wiring (firmware/main.ts) builds the real
 * ones from Espruino's globals; unit tests and the simulator pass their own with the same surface.
 * Nothing here allocates: types, and the three LINK_* numbers the minifier folds into their uses.
 */

/** Time and timers, injected so tests can drive them tick by tick. Times are milliseconds. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; monotonic enough for intervals. */
  now(): number;
  setTimeout(fn: () => void, ms: number): any;
  clearTimeout(id: any): void;
}

/**
 * What a transport reports to: one entry point, `_on(code, s)`, with the LINK_* codes below. It is the MQTT
 * client's own `_on` (the client hands itself to the connector), so no events object and no bound function
 * per event exists (each would cost JsVars for as long as the firmware runs).
 */
export interface LinkEvents {
  _on(code: number, s?: string): void;
}
/* Numbers, folded by the minifier: nothing is allocated. */
/** _on(LINK_OPEN): the byte stream is open (TCP, or TLS after its handshake). */
export const LINK_OPEN = 1;
/** _on(LINK_DATA, bytes): bytes as an Espruino byte string (one char per byte, codes 0..255). */
export const LINK_DATA = 2;
/** _on(LINK_CLOSE, reason?): the link is gone (closed by either side, refused, reset). At most once per link. */
export const LINK_CLOSE = 3;

/** One open byte stream. The MQTT client writes and receives byte strings, nothing else. */
export interface Link {
  write(data: string): void;
  /** Tear the link down now; no event arrives after this returns (no LINK_CLOSE for it). */
  close(): void;
}

/**
 * Opens a link to the broker; host, port and TLS are fixed by whoever built the connector. Its events go to
 * `events._on`, never from inside this call. May throw at once (Espruino's net.connect does on a closed
 * port): callers must catch.
 */
export type Connector = (events: LinkEvents) => Link;

/** One reading, ECMA-419 names and units: temperature in degC, pressure in Pa, humidity in %RH. */
export interface Sample {
  temperature?: number;
  humidity?: number;
  pressure?: number;
}

/** Called exactly once, always later (never from inside the call that started the read). */
export type SampleCallback = (error: Error | null, sample?: Sample) => void;

/** The driver contract every sensor follows (see firmware/sensors/README in the driver files). */
export interface Sensor {
  sample(callback: SampleCallback): void;
  close(): void;
}

/** Register access for Bosch-style chips: one driver serves I2C, SPI and the simulator's register file. */
export interface RegisterIO {
  /** Read buffer.length bytes starting at register reg into buffer. Throws on bus error. */
  read(reg: number, buffer: Uint8Array): void;
  /** Write one byte to register reg. Throws on bus error. */
  write(reg: number, value: number): void;
}

/** A digital output the pump state machine owns. */
export interface OutputPin {
  /** Drive the pin to a logic level (0/1), configuring it as an output if needed. */
  write(level: number): void;
  read(): number;
}

/** A digital input (interlock float switch, presence sensor), polled by the pump: on the device it is
 * Espruino's own Pin object, whose read() gives a boolean; fakes may give 0/1. Truthy means high. */
export interface InputPin {
  read(): number | boolean;
}
