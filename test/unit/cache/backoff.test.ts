import { ReconnectBackoff } from '../../../lib/cache/backoff.js';
import { FakeClock } from '../../../lib/util/clock.js';

describe('ReconnectBackoff', () => {
  test('0.8 s doubling to a 30 s cap, without jitter when random is 0', () => {
    const clock = new FakeClock(0);
    const b = new ReconnectBackoff(clock, {}, () => 0);
    const delays = Array.from({ length: 8 }, () => {
      const d = b.next();
      clock.step(d);
      return d;
    });
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  test('jitter shortens by up to 20 % and never exceeds the cap', () => {
    const clock = new FakeClock(0);
    const b = new ReconnectBackoff(clock, {}, () => 0.999999);
    expect(b.next()).toBe(640);
    for (let i = 0; i < 10; i++) expect(b.next()).toBeLessThanOrEqual(30_000);
  });

  test('resets after a healthy period without failures', () => {
    const clock = new FakeClock(0);
    const b = new ReconnectBackoff(clock, { resetAfterMs: 120_000 }, () => 0);
    b.next();
    b.next();
    expect(b.next()).toBe(3200);
    clock.step(119_999);
    expect(b.next()).toBe(6400);
    clock.step(120_000);
    expect(b.next()).toBe(800);
  });
});
