import { FakeClock } from '../../../lib/util/clock.js';
import { exponentialFailureRateLimiter, RateLimitingQueue } from '../../../lib/workqueue/index.js';

describe('RateLimitingQueue', () => {
  test('addRateLimited waits as the limiter says: 5, 10, 20 ms; forget starts over', async () => {
    const clock = new FakeClock(0);
    const q = new RateLimitingQueue<string>({ clock });
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) clock.step(1);
      readyAfter.push(clock.now() - start);
      q.done((await q.get())!);
    }
    expect(readyAfter).toEqual([5, 10, 20]);
    expect(q.numRequeues('a')).toBe(3);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a');
    clock.step(4);
    expect(q.len()).toBe(0);
    clock.step(1);
    expect(q.len()).toBe(1);
  });

  test('a custom rate limiter is used', () => {
    const clock = new FakeClock(0);
    const q = new RateLimitingQueue<string>({ clock, rateLimiter: exponentialFailureRateLimiter(100, 1000) });
    q.addRateLimited('a');
    clock.step(99);
    expect(q.len()).toBe(0);
    clock.step(1);
    expect(q.len()).toBe(1);
  });

  test('forget and numRequeues of unknown items are no-ops; addRateLimited after shutdown is dropped', () => {
    const clock = new FakeClock(0);
    const q = new RateLimitingQueue<string>({ clock });
    q.forget('x');
    expect(q.numRequeues('x')).toBe(0);
    q.shutDown();
    q.addRateLimited('x');
    expect(q.numRequeues('x')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
