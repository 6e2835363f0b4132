import { type Clock, FakeClock, monotonicNow, realClock } from '../../../lib/util/clock.js';

describe('FakeClock', () => {
  test('step fires due timers in time order, each at its own due time', () => {
    const c = new FakeClock(1000);
    const fired: Array<[string, number]> = [];
    c.setTimeout(() => fired.push(['b', c.now()]), 20);
    c.setTimeout(() => fired.push(['a', c.now()]), 10);
    c.setTimeout(() => fired.push(['c', c.now()]), 30);
    c.step(25);
    expect(fired).toEqual([
      ['a', 1010],
      ['b', 1020],
    ]);
    expect(c.now()).toBe(1025);
    expect(c.pendingTimers()).toBe(1);
  });

  test('equal due times fire in the order they were set', () => {
    const c = new FakeClock(0);
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) c.setTimeout(() => fired.push(i), 7);
    c.step(7);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  test('a timer set by a callback fires in the same step when it falls due within it', () => {
    const c = new FakeClock(0);
    const fired: number[] = [];
    c.setTimeout(() => {
      fired.push(c.now());
      c.setTimeout(() => fired.push(c.now()), 5);
    }, 5);
    c.step(10);
    expect(fired).toEqual([5, 10]);
  });

  test('clearTimeout cancels; negative delay means now', () => {
    const c = new FakeClock(0);
    let n = 0;
    const t = c.setTimeout(() => n++, 5);
    c.clearTimeout(t);
    c.clearTimeout(t);
    c.setTimeout(() => n++, -10);
    c.step(0);
    expect(n).toBe(1);
    expect(c.pendingTimers()).toBe(0);
  });

  test('a NaN delay means now, as on the real clock: it fires first, with now() a number', () => {
    const c = new FakeClock(1_000);
    const seen: Array<[string, number]> = [];
    c.setTimeout(() => seen.push(['later', c.now()]), 10);
    c.setTimeout(() => seen.push(['nan', c.now()]), NaN);
    c.step(0);
    expect(seen).toEqual([['nan', 1_000]]);
    c.step(10);
    expect(seen).toEqual([
      ['nan', 1_000],
      ['later', 1_010],
    ]);
  });

  test('a negative, NaN or infinite step is an error', () => {
    expect(() => new FakeClock().step(-1)).toThrow(RangeError);
    const c = new FakeClock(0);
    let fired = 0;
    c.setTimeout(() => fired++, 1_000);
    expect(() => c.step(NaN)).toThrow(RangeError);
    expect(() => c.step(Infinity)).toThrow(RangeError);
    expect([fired, c.now()]).toEqual([0, 0]);
  });

  test('stepWall moves the wall clock alone: monotonic time and timers are untouched', () => {
    const c = new FakeClock(10_000);
    const fired: number[] = [];
    c.setTimeout(() => fired.push(c.monotonic()), 100);
    c.stepWall(3_600_000);
    expect(c.now()).toBe(3_610_000);
    expect(c.monotonic()).toBe(10_000);
    expect(fired).toEqual([]);
    c.stepWall(-7_200_000);
    expect(c.now()).toBe(10_000 - 3_600_000);
    c.step(100);
    expect(fired).toEqual([10_100]);
    expect(c.now()).toBe(10_100 - 3_600_000);
    expect(c.nextTimerAt()).toBeUndefined();
    expect(() => c.stepWall(NaN)).toThrow(RangeError);
  });
});

describe('monotonicNow', () => {
  test('reads monotonic() when the clock has one, now() otherwise', () => {
    const c = new FakeClock(500);
    c.stepWall(40);
    expect(monotonicNow(c)).toBe(500);
    const wallOnly: Clock = {
      now: () => 42,
      setTimeout: c.setTimeout.bind(c),
      clearTimeout: c.clearTimeout.bind(c),
    };
    expect(monotonicNow(wallOnly)).toBe(42);
  });
});

describe('realClock', () => {
  test('now is wall-clock milliseconds and timers fire', async () => {
    const before = Date.now();
    expect(Math.abs(realClock.now() - before)).toBeLessThan(1000);
    await new Promise<void>((resolve) => realClock.setTimeout(resolve, 1));
  });
});
