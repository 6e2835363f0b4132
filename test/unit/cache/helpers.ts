import type { FakeClock } from '../../../lib/util/clock.js';

/** Lets pending promise callbacks and I/O run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits (on ticks, never on time) until `cond` holds; fails after `maxTicks`. */
export async function until(cond: () => boolean, what = 'condition', maxTicks = 2000): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Advances the fake clock timer by timer (letting async work settle in between) until `cond`
 * holds; fails if it takes more than `maxMs` of fake time.
 */
export async function stepUntil(
  clock: FakeClock,
  cond: () => boolean,
  maxMs = 3_600_000,
  what = 'condition',
): Promise<void> {
  const deadline = clock.now() + maxMs;
  for (;;) {
    for (let i = 0; i < 20; i++) await tick();
    if (cond()) return;
    const next = clock.nextTimerAt();
    if (next === undefined || next > deadline) throw new Error(`timed out waiting for ${what}`);
    clock.setTime(next);
  }
}
