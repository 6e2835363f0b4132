import { FakeClock } from '../../../lib/util/clock.js';
import { LOW_PRIORITY, Queue } from '../../../lib/workqueue/index.js';

/** Resolves whether a promise has settled yet, without waiting for it. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  const marker = Symbol('pending');
  const v = await Promise.race([p, new Promise<typeof marker>((r) => setImmediate(() => r(marker)))]);
  return v === marker ? { done: false } : { done: true, value: v as T };
}

async function drainAll<T>(q: Queue<T>): Promise<T[]> {
  const out: T[] = [];
  while (q.len() > 0) {
    const item = (await q.get())!;
    out.push(item);
    q.done(item);
  }
  return out;
}

describe('Queue: deduplication and processing rules', () => {
  test('FIFO order; adding a queued key is a no-op', async () => {
    const q = new Queue<string>();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.len()).toBe(3);
    expect(await drainAll(q)).toEqual(['a', 'b', 'c']);
  });

  test('a key being processed is not handed out again; re-added, it is queued once on done()', async () => {
    const q = new Queue<string>();
    q.add('a');
    const a = await q.get();
    expect(a).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    const next = q.get();
    expect((await settled(next)).done).toBe(false);
    q.done('a');
    expect(await next).toBe('a');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(0);
  });

  test('a key processed and not re-added is not queued again by done()', async () => {
    const q = new Queue<string>();
    q.add('a');
    q.done((await q.get())!);
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(0);
  });

  test('objects are keyed namespace/name by default, or by keyOf', async () => {
    const q = new Queue<{ namespace?: string; name: string }>();
    q.add({ namespace: 'ns', name: 'x' });
    q.add({ namespace: 'ns', name: 'x' });
    q.add({ name: 'x' });
    expect(q.len()).toBe(2);
    const byId = new Queue<{ id: number; v: number }>({ keyOf: (o) => String(o.id) });
    byId.add({ id: 1, v: 1 });
    byId.add({ id: 1, v: 2 });
    expect(byId.len()).toBe(1);
    expect(await byId.get()).toEqual({ id: 1, v: 1 });
  });

  test('get() waits without polling and wakes on add, one waiter per item, in order', async () => {
    const clock = new FakeClock();
    const q = new Queue<string>({ clock });
    const w1 = q.get();
    const w2 = q.get();
    expect(clock.pendingTimers()).toBe(0);
    expect((await settled(w1)).done).toBe(false);
    q.add('a');
    expect(await w1).toBe('a');
    expect((await settled(w2)).done).toBe(false);
    q.add('a'); // processing: marked dirty, not handed to w2
    expect((await settled(w2)).done).toBe(false);
    q.add('b');
    expect(await w2).toBe('b');
  });
});

describe('Queue: misuse has defined behaviour', () => {
  test('done() of an unknown item is a no-op', async () => {
    const q = new Queue<string>();
    q.done('nope');
    q.add('a');
    q.done('a'); // queued, not processing
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
  });

  test('add after shutdown is dropped', async () => {
    const q = new Queue<string>();
    q.shutDown();
    q.add('a');
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
  });
});

describe('Queue: shutdown', () => {
  test('shutDown: workers drain what is queued, then get() resolves undefined', async () => {
    const q = new Queue<string>();
    q.add('a');
    q.add('b');
    q.shutDown();
    expect(q.shuttingDown()).toBe(true);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBeUndefined();
  });

  test('shutDown wakes blocked workers with undefined', async () => {
    const q = new Queue<string>();
    const w = [q.get(), q.get()];
    q.shutDown();
    expect(await Promise.all(w)).toEqual([undefined, undefined]);
  });

  test('a key re-added while processing before shutdown is still processed', async () => {
    const q = new Queue<string>();
    q.add('a');
    await q.get();
    q.add('a');
    q.shutDown();
    q.done('a');
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(await q.get()).toBeUndefined();
  });

  test('shutDownWithDrain waits for in-flight items to be done()', async () => {
    const q = new Queue<string>();
    q.add('a');
    q.add('b');
    const a = (await q.get())!;
    const drained = q.shutDownWithDrain();
    expect((await settled(drained)).done).toBe(false);
    const b = (await q.get())!;
    q.done(a);
    expect((await settled(drained)).done).toBe(false);
    q.done(b);
    await drained;
    expect(await q.get()).toBeUndefined();
  });

  test('shutDownWithDrain on an idle queue resolves at once', async () => {
    const q = new Queue<string>();
    await q.shutDownWithDrain();
  });
});

describe('Queue: priorities with aging', () => {
  test('higher priority first, FIFO within a level', async () => {
    const q = new Queue<string>({ clock: new FakeClock() });
    q.add('low1', { priority: LOW_PRIORITY });
    q.add('mid1');
    q.add('high1', { priority: 10 });
    q.add('low2', { priority: LOW_PRIORITY });
    q.add('mid2');
    q.add('high2', { priority: 10 });
    expect(await drainAll(q)).toEqual(['high1', 'high2', 'mid1', 'mid2', 'low1', 'low2']);
  });

  test('adding a queued key with a higher priority raises it, keeping its place in queue order; a lower one does not lower it', async () => {
    const q = new Queue<string>({ clock: new FakeClock() });
    q.add('a', { priority: LOW_PRIORITY });
    q.add('b');
    q.add('c', { priority: 5 });
    q.add('a', { priority: 5 });
    q.add('c', { priority: LOW_PRIORITY });
    expect(q.len()).toBe(3);
    // 'a' was queued before 'c', so it goes first on their shared level (controller-runtime's
    // priority queue keeps the original add order too).
    expect(await drainAll(q)).toEqual(['a', 'c', 'b']);
  });

  test('a re-add while processing keeps the highest priority for the requeue', async () => {
    const q = new Queue<string>({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.add('a', { priority: LOW_PRIORITY });
    q.add('a', { priority: 7 });
    q.add('b', { priority: 5 });
    q.done('a');
    expect(await drainAll(q)).toEqual(['a', 'b']);
  });

  test('aging: a low-priority key waits at most maxPriorityWaitMs under a stream of high-priority adds', async () => {
    const clock = new FakeClock();
    const bound = 1000;
    const q = new Queue<string>({ clock, maxPriorityWaitMs: bound });
    q.add('low', { priority: LOW_PRIORITY });
    let servedAt: number | undefined;
    // Each step, two high-priority keys arrive and one item is served: high keys never run out.
    for (let i = 0; i < 1000 && servedAt === undefined; i++) {
      q.add(`h${2 * i}`, { priority: 10 });
      q.add(`h${2 * i + 1}`, { priority: 10 });
      const item = (await q.get())!;
      if (item === 'low') servedAt = clock.now();
      q.done(item);
      clock.step(10);
    }
    expect(servedAt).toBe(clock.now() - 10);
    expect(servedAt! - Date.UTC(2026, 0, 1)).toBe(bound);
  });

  test('aging: the wait that counts starts when higher-priority work appears', async () => {
    const clock = new FakeClock(0);
    const q = new Queue<string>({ clock, maxPriorityWaitMs: 1000 });
    q.add('low', { priority: LOW_PRIORITY });
    q.add('low-2', { priority: LOW_PRIORITY });
    clock.step(5000);
    let servedAt: number | undefined;
    for (let i = 0; servedAt === undefined && i < 500; i++) {
      q.add(`h${i}`, { priority: 1 });
      q.add(`h${i}b`, { priority: 1 });
      const item = (await q.get())!;
      if (item === 'low') servedAt = clock.now();
      q.done(item);
      clock.step(10);
    }
    expect(servedAt).toBe(6000);
  });

  test('aging: overdue items are served oldest first, then priority order resumes', async () => {
    const clock = new FakeClock();
    const q = new Queue<string>({ clock, maxPriorityWaitMs: 100 });
    q.add('low1', { priority: -1 });
    clock.step(10);
    q.add('low2', { priority: -2 });
    clock.step(10);
    q.add('high');
    clock.step(200);
    q.add('fresh', { priority: 10 });
    expect(await drainAll(q)).toEqual(['low1', 'low2', 'high', 'fresh']);
  });

  test('maxPriorityWaitMs must not be negative', () => {
    expect(() => new Queue({ maxPriorityWaitMs: -1 })).toThrow(RangeError);
  });
});
