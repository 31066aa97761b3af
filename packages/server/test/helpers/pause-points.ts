import type { PausePoint, PausePointName } from '../../src/failpoints.js';

/** A request held at a step: `reached` resolves once it is there, `release` lets it go on. */
export interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * The pause points of a test server (src/failpoints.ts). `hold(name)` holds the next request that
 * reaches the step, once; every other request passes it at once.
 */
export class PausePoints {
  private readonly armed = new Map<PausePointName, { arrive: () => void; released: Promise<void> }>();

  readonly point: PausePoint = async (name) => {
    const gate = this.armed.get(name);
    if (!gate) return;
    this.armed.delete(name);
    gate.arrive();
    await gate.released;
  };

  hold(name: PausePointName): Hold {
    let arrive = () => {};
    let release = () => {};
    const reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.armed.set(name, { arrive, released });
    return { reached, release };
  }
}
