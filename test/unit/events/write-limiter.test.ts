import { WriteLimiter } from '../../../lib/events/write-limiter.js';

/** A write that finishes when told to. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('WriteLimiter', () => {
  test('at most `concurrency` at once; the rest start in arrival order as slots free', async () => {
    const l = new WriteLimiter(2);
    const writes = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const done = writes.map((w, i) => l.run(() => (started.push(i), w.promise)));
    await flush();
    expect(started).toEqual([0, 1]);
    expect(l.waiting).toBe(3);
    writes[1]!.resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    writes[0]!.reject(new Error('boom'));
    await expect(done[0]).rejects.toThrow('boom');
    await flush();
    // A failed write frees its slot too.
    expect(started).toEqual([0, 1, 2, 3]);
    expect(l.waiting).toBe(1);
    for (const w of writes) w.resolve();
    await Promise.all(done.slice(1));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(l.waiting).toBe(0);
  });

  test('run settles with the write: its value, or its error', async () => {
    const l = new WriteLimiter(1);
    await expect(l.run(async () => 42)).resolves.toBe(42);
    await expect(l.run(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
  });

  test('onIdle resolves once nothing runs or waits, at once when idle', async () => {
    const l = new WriteLimiter(1);
    await l.onIdle();
    const a = deferred();
    const b = deferred();
    void l.run(() => a.promise);
    void l.run(() => b.promise);
    let idle = false;
    void l.onIdle().then(() => (idle = true));
    a.resolve();
    await flush();
    expect(idle).toBe(false);
    b.resolve();
    await flush();
    expect(idle).toBe(true);
  });

  test('thousands of waiters are served in order (the backlog is compacted as it drains)', async () => {
    const l = new WriteLimiter(3);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        l.run(async () => {
          order.push(i);
          await Promise.resolve();
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(l.waiting).toBe(0);
  });
});
