import { TokenBucket } from '../../../lib/client/throttle.js';
import { FakeClock } from '../../../lib/util/clock.js';

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('TokenBucket', () => {
  test('burst is immediate, then one token per 1/qps seconds in arrival order', async () => {
    const clock = new FakeClock(0);
    const b = new TokenBucket({ qps: 10, burst: 3, clock });
    for (let i = 0; i < 3; i++) expect(await b.acquire()).toBe(0);
    const fourth = b.acquire();
    const fifth = b.acquire();
    expect(await settled(fourth)).toBe(false);
    clock.step(100);
    expect(await fourth).toBe(100);
    expect(await settled(fifth)).toBe(false);
    clock.step(100);
    expect(await fifth).toBe(200);
  });

  test('refills up to burst while idle', async () => {
    const clock = new FakeClock(0);
    const b = new TokenBucket({ qps: 20, burst: 30, clock });
    for (let i = 0; i < 30; i++) expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    clock.step(10_000);
    for (let i = 0; i < 30; i++) expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
  });

  test('an aborted wait rejects and returns its token', async () => {
    const clock = new FakeClock(0);
    const b = new TokenBucket({ qps: 1, burst: 1, clock });
    await b.acquire();
    const ac = new AbortController();
    const waiting = b.acquire(ac.signal);
    ac.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    clock.step(1000);
    expect(b.tryAcquire()).toBe(true);
  });

  test('qps <= 0 disables throttling', async () => {
    const b = new TokenBucket({ qps: 0, burst: 1, clock: new FakeClock(0) });
    for (let i = 0; i < 100; i++) expect(await b.acquire()).toBe(0);
  });

  test('defaults are one budget of 100 / 150', () => {
    const b = new TokenBucket();
    expect([b.qps, b.burst]).toEqual([100, 150]);
  });
});
