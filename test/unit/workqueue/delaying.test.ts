import { FakeClock } from '../../../lib/util/clock.js';
import { DelayingQueue, LOW_PRIORITY } from '../../../lib/workqueue/index.js';

function setup() {
  const clock = new FakeClock(0);
  const q = new DelayingQueue<string>({ clock });
  return { clock, q };
}

describe('DelayingQueue.addAfter', () => {
  test('the item is added once its delay has passed, not before', () => {
    const { clock, q } = setup();
    q.addAfter('a', 50);
    expect(q.len()).toBe(0);
    expect(q.waitingLen()).toBe(1);
    clock.step(49);
    expect(q.len()).toBe(0);
    clock.step(1);
    expect(q.len()).toBe(1);
    expect(q.waitingLen()).toBe(0);
  });

  test('zero, negative or NaN delay adds now', () => {
    const { q } = setup();
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    q.addAfter('c', NaN);
    expect(q.len()).toBe(3);
    expect(q.waitingLen()).toBe(0);
  });

  test('one timer for all waiting items, however many', () => {
    const { clock, q } = setup();
    for (let i = 0; i < 1000; i++) q.addAfter(`k${i}`, 1000 - i);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(1);
    clock.step(500);
    expect(q.len()).toBe(500);
    expect(clock.pendingTimers()).toBe(1);
    clock.step(500);
    expect(q.len()).toBe(1000);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('items become ready in time order', async () => {
    const { clock, q } = setup();
    q.addAfter('c', 30);
    q.addAfter('a', 10);
    q.addAfter('b', 20);
    clock.step(30);
    const got = [];
    while (q.len() > 0) got.push(await q.get());
    expect(got).toEqual(['a', 'b', 'c']);
  });

  test('a key waiting twice keeps the earliest time', () => {
    const { clock, q } = setup();
    q.addAfter('a', 100);
    q.addAfter('a', 10);
    q.addAfter('a', 500);
    expect(q.waitingLen()).toBe(1);
    clock.step(10);
    expect(q.len()).toBe(1);
    expect(q.waitingLen()).toBe(0);
    clock.step(1000);
    expect(q.len()).toBe(1);
  });

  test('a waiting item that is also added directly is deduplicated when its delay passes', () => {
    const { clock, q } = setup();
    q.addAfter('a', 10);
    q.add('a');
    clock.step(10);
    expect(q.len()).toBe(1);
  });

  test('priority is carried through the delay', async () => {
    const { clock, q } = setup();
    q.add('normal');
    q.addAfter('low', 5, { priority: LOW_PRIORITY });
    q.addAfter('high', 5, { priority: 3 });
    clock.step(5);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['high', 'normal', 'low']);
  });

  test('shutdown drops waiting items and the timer; later addAfter is dropped', () => {
    const { clock, q } = setup();
    q.addAfter('a', 10);
    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    q.addAfter('b', 10);
    clock.step(100);
    expect(q.len()).toBe(0);
    expect(q.waitingLen()).toBe(0);
  });
});

describe('DelayingQueue input a caller should not pass', () => {
  test('a delay that is not a number, or a NaN or non-number priority, is a RangeError naming it', () => {
    const q = new DelayingQueue<string>({ clock: new FakeClock() });
    expect(() => q.addAfter('a', '1000' as unknown as number)).toThrow(
      new RangeError('work queue: delayMs must be a number, got "1000"'),
    );
    expect(() => q.add('a', { priority: NaN })).toThrow(
      new RangeError('work queue: priority must be a number, got NaN'),
    );
    expect(() => q.addAfter('a', 10, { priority: '1' as unknown as number })).toThrow(
      new RangeError('work queue: priority must be a number, got "1"'),
    );
    expect([q.len(), q.waitingLen()]).toEqual([0, 0]);
    // Infinite priorities are still ordered; NaN and negative delays still mean now.
    q.add('low', { priority: -Infinity });
    q.add('high', { priority: Infinity });
    q.addAfter('now', NaN);
    expect(q.len()).toBe(3);
  });

  test('Infinity keeps nothing waiting, so a key that is never due costs no memory', () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('never', Infinity);
    expect([q.waitingLen(), clock.pendingTimers()]).toEqual([0, 0]);
    q.addAfter('soon', 10);
    q.addAfter('soon', Infinity); // the earlier time is kept
    clock.step(10);
    expect([q.len(), q.waitingLen()]).toEqual([1, 0]);
  });
});
