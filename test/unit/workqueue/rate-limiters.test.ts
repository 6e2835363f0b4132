import { FakeClock } from '../../../lib/util/clock.js';
import {
  bucketRateLimiter,
  defaultControllerRateLimiter,
  exponentialFailureRateLimiter,
  fastSlowRateLimiter,
  maxOfRateLimiter,
} from '../../../lib/workqueue/index.js';

describe('exponentialFailureRateLimiter', () => {
  test('defaults: 5, 10, 20 ms … capped at 1000 s; per item; forget resets', () => {
    const l = exponentialFailureRateLimiter<string>();
    const delays = Array.from({ length: 30 }, () => l.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // 5 ms * 2^17 = 655.36 s; 2^18 would be 1310.72 s, so it is capped from the 19th retry.
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[29]).toBe(1_000_000);
    expect(l.numRequeues('a')).toBe(30);
    expect(l.when('b')).toBe(5);
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
    expect(l.when('a')).toBe(5);
    l.forget('never-seen');
  });

  test('no overflow after very many failures', () => {
    const l = exponentialFailureRateLimiter<string>(1, 1000);
    for (let i = 0; i < 2000; i++) l.when('a');
    expect(l.when('a')).toBe(1000);
  });

  test('objects share a history by key', () => {
    const l = exponentialFailureRateLimiter<{ namespace: string; name: string }>(1, 100);
    l.when({ namespace: 'n', name: 'x' });
    expect(l.when({ namespace: 'n', name: 'x' })).toBe(2);
  });

  test('bad arguments are rejected', () => {
    expect(() => exponentialFailureRateLimiter(-1, 10)).toThrow(RangeError);
  });
});

describe('bucketRateLimiter', () => {
  test('defaults: a burst of 100 immediately, then 100 ms spacing', () => {
    const clock = new FakeClock(0);
    const l = bucketRateLimiter<string>(10, 100, { clock });
    const delays = Array.from({ length: 103 }, (_, i) => l.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 0)).toBe(true);
    expect(delays.slice(100)).toEqual([100, 200, 300]);
    expect(l.numRequeues('k0')).toBe(0);
  });

  test('tokens refill with time, up to the burst', () => {
    const clock = new FakeClock(0);
    const l = bucketRateLimiter<string>(10, 2, { clock });
    expect([l.when('a'), l.when('a'), l.when('a')]).toEqual([0, 0, 100]);
    clock.step(10_000);
    expect([l.when('a'), l.when('a'), l.when('a')]).toEqual([0, 0, 100]);
  });

  test('bad arguments are rejected', () => {
    expect(() => bucketRateLimiter(0, 1)).toThrow(RangeError);
  });
});

describe('fastSlowRateLimiter', () => {
  test('fast for maxFastAttempts, then slow; forget resets', () => {
    const l = fastSlowRateLimiter<string>(5, 10_000, 3);
    expect([l.when('a'), l.when('a'), l.when('a'), l.when('a'), l.when('a')]).toEqual([
      5, 5, 5, 10_000, 10_000,
    ]);
    expect(l.numRequeues('a')).toBe(5);
    l.forget('a');
    expect(l.when('a')).toBe(5);
  });
});

describe('maxOfRateLimiter', () => {
  test('the longest delay wins; every limiter counts; forget clears all', () => {
    const l = maxOfRateLimiter<string>(
      fastSlowRateLimiter(50, 100, 2),
      exponentialFailureRateLimiter(10, 10_000),
    );
    const delays = Array.from({ length: 6 }, () => l.when('a'));
    expect(delays).toEqual([50, 50, 100, 100, 160, 320]);
    expect(l.numRequeues('a')).toBe(6);
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
    expect(l.when('a')).toBe(50);
  });

  test('needs a limiter', () => {
    expect(() => maxOfRateLimiter()).toThrow(RangeError);
  });
});

describe('defaultControllerRateLimiter', () => {
  test('exponential per item until the overall bucket runs dry', () => {
    const clock = new FakeClock(0);
    const l = defaultControllerRateLimiter<string>({ clock });
    expect([l.when('a'), l.when('a'), l.when('a')]).toEqual([5, 10, 20]);
    for (let i = 0; i < 97; i++) expect(l.when(`k${i}`)).toBe(5);
    // The bucket's 100 tokens are spent: the next retry waits for the bucket, not the backoff.
    expect(l.when('b')).toBe(100);
  });
});
