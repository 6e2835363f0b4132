import { jest } from '@jest/globals';
import { type Clock, FakeClock, realClock } from '../../../lib/util/clock.js';
import { DelayingQueue } from '../../../lib/workqueue/index.js';

/**
 * Delays beyond Node's timer limit (2^31−1 ms ≈ 24.8 days). A 30-day `requeueAfterMs` is
 * ordinary (a TTL after completion); Node turns such a timeout into 1 ms with a
 * TimeoutOverflowWarning, and a queue that re-arms on every early fire then spins. The fault
 * lives in Node's real timers, which the fake clock does not model, so the first test runs on
 * the real clock and lets half a second of real time pass: that idle time is what it checks.
 */

const DAY = 86_400_000;
// Captured before any spy is installed, so that the test's own wait is not counted.
const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

test('real clock: a 30-day addAfter arms one timer, warns nothing and stays idle', async () => {
  let arms = 0;
  const counting: Clock = {
    ...realClock,
    setTimeout: (fn, ms) => {
      arms++;
      return realClock.setTimeout(fn, ms);
    },
  };
  const nodeTimers = jest.spyOn(globalThis, 'setTimeout');
  const q = new DelayingQueue<string>({ clock: counting });
  try {
    q.addAfter('ttl', 30 * DAY);
    await sleep(500);
    // Node warns (TimeoutOverflowWarning) exactly when it is given a delay above the limit.
    // Jest gives the test its own copy of `process`, so the warning event itself is not
    // observable here; the delays handed to Node are.
    const overLimit = nodeTimers.mock.calls.filter(([, ms]) => !((ms ?? 0) <= 2 ** 31 - 1));
    expect({ arms, nodeTimers: nodeTimers.mock.calls.length, overLimit }).toEqual({
      arms: 1,
      nodeTimers: 1,
      overLimit: [],
    });
    expect(q.len()).toBe(0);
    expect(q.waitingLen()).toBe(1);
  } finally {
    q.shutDown();
    nodeTimers.mockRestore();
  }
});

test('fake clock: a 30-day item is added at exactly 30 days', () => {
  const clock = new FakeClock(0);
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('ttl', 30 * DAY);
  clock.step(30 * DAY - 1);
  expect(q.len()).toBe(0);
  clock.step(1);
  expect(q.len()).toBe(1);
  expect(q.waitingLen()).toBe(0);
  expect(clock.pendingTimers()).toBe(0);
});

describe('realClock.setTimeout beyond the timer limit (Node timers faked by Jest)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('fires once, at the full delay, holding one Node timer at a time', () => {
    let fired = 0;
    realClock.setTimeout(() => fired++, 30 * DAY);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(30 * DAY - 1);
    expect(fired).toBe(0);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1);
    expect(fired).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('clearTimeout cancels it, before or after the first link has fired', () => {
    let fired = 0;
    const early = realClock.setTimeout(() => fired++, 60 * DAY);
    const late = realClock.setTimeout(() => fired++, 60 * DAY);
    realClock.clearTimeout(early);
    jest.advanceTimersByTime(40 * DAY);
    realClock.clearTimeout(late);
    jest.advanceTimersByTime(40 * DAY);
    expect(fired).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('Infinity never fires; NaN and negative delays mean now', () => {
    let fired = 0;
    const never = realClock.setTimeout(() => (fired += 100), Infinity);
    realClock.setTimeout(() => fired++, NaN);
    realClock.setTimeout(() => fired++, -5);
    jest.advanceTimersByTime(0);
    expect(fired).toBe(2);
    jest.advanceTimersByTime(365 * DAY);
    expect(fired).toBe(2);
    expect(jest.getTimerCount()).toBe(1);
    realClock.clearTimeout(never);
    expect(jest.getTimerCount()).toBe(0);
  });
});
