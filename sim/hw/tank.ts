/*
 * The water tank and the room the node sits in. The tank fills while the pump runs (fillRate %/s) and
 * drains at a set demand (%/s); its float switch reports "full" above fullLevel. The room's temperature,
 * humidity and pressure follow a slow daily swing plus a little noise, so readings move like real ones.
 */

export class Tank {
  /** 0..100 %. */
  level = 50;
  /** Drain, %/s. */
  demand = 0.05;
  /** Fill while the pump runs, %/s. */
  fillRate = 0.5;
  /** The float switch closes at or above this level (%). */
  fullLevel = 95;

  /** Advance by dtSec with the pump on or off. */
  step(dtSec: number, pumpOn: boolean): void {
    this.level += ((pumpOn ? this.fillRate : 0) - this.demand) * dtSec;
    if (this.level > 100) this.level = 100;
    if (this.level < 0) this.level = 0;
  }

  full(): boolean {
    return this.level >= this.fullLevel;
  }
}

export interface Climate {
  temperature: number;
  humidity: number;
  pressure: number;
}

/** Base values (degC, %RH, Pa) with a 24 h swing (+-2 degC, -+6 %RH, +-80 Pa) and small noise. */
export class Room {
  base: Climate;
  private phase: number;

  constructor(base: Partial<Climate>, seed: number) {
    this.base = { temperature: base.temperature ?? 21, humidity: base.humidity ?? 45, pressure: base.pressure ?? 101325 };
    this.phase = (seed % 1000) / 1000;
  }

  at(ms: number): Climate {
    const day = 2 * Math.PI * (ms / 86400000 + this.phase);
    const noise = () => (Math.random() - 0.5) * 2;
    return {
      temperature: this.base.temperature + 2 * Math.sin(day) + 0.05 * noise(),
      humidity: Math.max(0, Math.min(100, this.base.humidity - 6 * Math.sin(day) + 0.3 * noise())),
      pressure: this.base.pressure + 80 * Math.sin(day / 2) + 3 * noise()
    };
  }
}
