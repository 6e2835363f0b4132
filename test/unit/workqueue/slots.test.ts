import { Queue } from '../../../lib/workqueue/index.js';

/**
 * The queue's bookkeeping of keys at scale: done() finding an item by identity among those in
 * flight (or by key), and finished keys kept idle, deleted, or dropped all at once as their
 * number grows past the live ones. Checked against a model of client-go's rules (queue, dirty
 * and processing sets) over far more keys than the queue keeps idle, so every path runs.
 */

/** A small seeded generator (mulberry32): the same interleaving on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** client-go's rules, one priority level: FIFO of keys, a dirty set, a processing set. */
class Model {
  readonly queue: string[] = [];
  #head = 0;
  readonly queued = new Set<string>();
  readonly processing = new Set<string>();
  readonly dirty = new Set<string>();

  add(k: string): void {
    if (this.processing.has(k)) this.dirty.add(k);
    else if (!this.queued.has(k)) {
      this.queued.add(k);
      this.queue.push(k);
    }
  }
  get(): string {
    const k = this.queue[this.#head++]!;
    this.queued.delete(k);
    this.processing.add(k);
    return k;
  }
  done(k: string): void {
    this.processing.delete(k);
    if (this.dirty.delete(k)) this.add(k);
  }
  len(): number {
    return this.queue.length - this.#head;
  }
}

interface Item {
  readonly name: string;
}

/**
 * Runs phases that grow the queue to `keys` distinct keys and drain it again, with re-adds of
 * queued, processing and finished keys, and checks every hand-out against the model.
 */
async function checkAgainstModel(opts: { keys: number; workers: number; seed: number }): Promise<void> {
  const random = prng(opts.seed);
  // Object items keyed by name: done() is given either the object get() returned or another
  // object with the same name, so both the identity and the key lookups are used.
  const q = new Queue<Item>({ keyOf: (i) => i.name });
  const m = new Model();
  const held: Item[] = [];
  // Plain comparisons in the loop (expect() per step would dominate the run); one expect at the end.
  let mismatch: string | undefined;
  const check = (what: string, actual: unknown, expected: unknown) => {
    if (mismatch === undefined && actual !== expected)
      mismatch = `${what}: ${String(actual)}, expected ${String(expected)}`;
  };
  const take = async () => {
    const item = (await q.get())!;
    check('get()', item.name, m.get());
    held.push(item);
  };
  const finish = () => {
    const [item] = held.splice(Math.floor(random() * held.length), 1);
    q.done(random() < 0.2 ? { name: item!.name } : item!);
    m.done(item!.name);
  };
  const add = (k: number) => {
    const name = `ns/key-${k}`;
    q.add({ name });
    m.add(name);
  };
  for (const [grow, reAdd] of [
    [1, 0.05],
    [0.05, 0.3],
    [1, 0.01],
    [0, 0.5],
  ] as const) {
    // Grow: add fresh keys (and some old ones) while workers take and finish a few.
    for (let k = 0; k < opts.keys * grow; k++) {
      add(random() < 0.9 ? k : Math.floor(random() * opts.keys));
      if (random() < 0.1 && m.len() > 0 && held.length < opts.workers) await take();
      if (random() < 0.1 && held.length > 0) finish();
    }
    // Drain: workers take and finish everything, re-adding some keys (queued, processing or
    // finished ones) as they go.
    while (m.len() > 0 || held.length > 0) {
      if (m.len() > 0 && held.length < opts.workers && (held.length === 0 || random() < 0.6)) await take();
      else finish();
      if (random() < reAdd) add(Math.floor(random() * opts.keys));
      check('len()', q.len(), m.len());
      check('processingLen()', q.processingLen(), m.processing.size);
    }
  }
  // Every key still works after being idle, deleted or dropped: queued once, handed out once.
  for (let k = 0; k < opts.keys; k += 97) add(k);
  while (m.len() > 0) {
    await take();
    finish();
  }
  check('len() at the end', q.len(), 0);
  check('processingLen() at the end', q.processingLen(), 0);
  expect(mismatch).toBeUndefined();
}

describe('Queue: keys at scale', () => {
  test('one worker, 40,000 keys: idle keys kept, deleted and dropped in bulk keep every rule', async () => {
    await checkAgainstModel({ keys: 40_000, workers: 1, seed: 1 });
  });

  test('more workers than done() scans (found by key), 3,000 keys', async () => {
    await checkAgainstModel({ keys: 3_000, workers: 40, seed: 2 });
  });

  test('a few workers, 12,000 keys', async () => {
    await checkAgainstModel({ keys: 12_000, workers: 5, seed: 3 });
  });

  test('done() with an equal-keyed object finishes the item; done() twice is a no-op', async () => {
    const q = new Queue<Item>({ keyOf: (i) => i.name });
    q.add({ name: 'a' });
    q.add({ name: 'b' });
    const a = (await q.get())!;
    q.add({ name: 'a' }); // dirty: queued again on done
    q.done({ name: 'a' });
    q.done(a);
    expect(q.len()).toBe(2);
    expect(q.processingLen()).toBe(0);
    expect((await q.get())!.name).toBe('b');
    expect((await q.get())!.name).toBe('a');
  });
});
