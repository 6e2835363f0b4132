import fc from 'fast-check';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  type AddOptions,
  exponentialFailureRateLimiter,
  RateLimitingQueue,
} from '../../../lib/workqueue/index.js';

/**
 * Random interleavings of the queue's operations, checked against the rules that matter:
 * no key is held by two workers at once, every accepted add is followed by a get of that key,
 * and nothing is handed out after shutDownWithDrain resolves.
 */

const KEYS = ['a', 'b', 'c', 'd'];

type Cmd =
  | { op: 'add'; key: string; priority: number }
  | { op: 'addAfter'; key: string; delay: number }
  | { op: 'addRateLimited'; key: string }
  | { op: 'forget'; key: string }
  | { op: 'get' }
  | { op: 'done'; pick: number }
  | { op: 'step'; ms: number }
  | { op: 'shutDown' }
  | { op: 'shutDownWithDrain' };

const key = fc.constantFrom(...KEYS);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('add' as const), key, priority: fc.constantFrom(-100, 0, 5) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addAfter' as const),
      key,
      delay: fc.integer({ min: -5, max: 50 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('addRateLimited' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forget' as const), key }) },
  { weight: 4, arbitrary: fc.constant({ op: 'get' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('done' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('step' as const), ms: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'shutDown' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'shutDownWithDrain' as const }) },
);

/** A queue that logs the adds it accepts, including those its delay timer makes. */
class LoggingQueue extends RateLimitingQueue<string> {
  constructor(
    clock: FakeClock,
    readonly onAdd: (key: string) => void,
  ) {
    super({ clock, rateLimiter: exponentialFailureRateLimiter(1, 16), maxPriorityWaitMs: 20 });
  }
  override add(item: string, opts?: AddOptions): void {
    if (!this.shuttingDown()) this.onAdd(item);
    super.add(item, opts);
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

async function runScenario(cmds: Cmd[]): Promise<void> {
  const clock = new FakeClock(0);
  let seq = 0;
  const lastAdd = new Map<string, number>();
  const lastGet = new Map<string, number>();
  const held: string[] = [];
  let drainedAt = Infinity;
  const violations: string[] = [];

  const q = new LoggingQueue(clock, (k) => lastAdd.set(k, seq++));
  const startWorker = () => {
    void q.get().then((item) => {
      if (item === undefined) return;
      const at = seq++;
      if (held.includes(item)) violations.push(`${item} handed to two workers`);
      if (at > drainedAt) violations.push(`${item} handed out after the drain resolved`);
      held.push(item);
      lastGet.set(item, at);
    });
  };

  for (const c of cmds) {
    switch (c.op) {
      case 'add':
        q.add(c.key, { priority: c.priority });
        break;
      case 'addAfter':
        q.addAfter(c.key, c.delay);
        break;
      case 'addRateLimited':
        q.addRateLimited(c.key);
        break;
      case 'forget':
        q.forget(c.key);
        break;
      case 'get':
        startWorker();
        break;
      case 'done':
        if (held.length > 0) q.done(held.splice(c.pick % held.length, 1)[0]!);
        break;
      case 'step':
        clock.step(c.ms);
        break;
      case 'shutDown':
        q.shutDown();
        break;
      case 'shutDownWithDrain':
        void q.shutDownWithDrain().then(() => {
          drainedAt = Math.min(drainedAt, seq++);
        });
        break;
    }
    await flush();
  }

  // Let every delay pass, then play enough workers to finish everything.
  clock.step(1_000);
  await flush();
  for (let rounds = 0; rounds < 50 && (held.length > 0 || q.len() > 0); rounds++) {
    while (held.length > 0) q.done(held.shift()!);
    startWorker();
    await flush();
  }
  while (held.length > 0) q.done(held.shift()!);
  await flush();

  expect(violations).toEqual([]);
  for (const [k, added] of lastAdd) {
    const got = lastGet.get(k) ?? -1;
    if (got <= added) throw new Error(`${k}: added at ${added}, last handed out at ${got}`);
  }
  expect(q.len()).toBe(0);
}

describe('work queue properties', () => {
  test('random interleavings keep the processing rules', async () => {
    await fc.assert(fc.asyncProperty(fc.array(cmd, { maxLength: 60 }), runScenario), { numRuns: 300 });
  });

  test('a worker pool on random adds never shares a key and processes every key after its last add', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, fc.nat(3)), { minLength: 1, maxLength: 200 }), async (adds) => {
        const clock = new FakeClock(0);
        const q = new RateLimitingQueue<string>({ clock });
        const inFlight = new Set<string>();
        const lastAdd = new Map<string, number>();
        const lastStart = new Map<string, number>();
        let t = 0;
        let shared = false;
        const worker = async () => {
          for (let item = await q.get(); item !== undefined; item = await q.get()) {
            if (inFlight.has(item)) shared = true;
            inFlight.add(item);
            lastStart.set(item, t++);
            await flush();
            inFlight.delete(item);
            q.done(item);
          }
        };
        const workers = [worker(), worker(), worker()];
        for (const [k, pause] of adds) {
          lastAdd.set(k, t++);
          q.add(k);
          for (let i = 0; i < pause; i++) await flush();
        }
        await q.shutDownWithDrain();
        await Promise.all(workers);
        expect(shared).toBe(false);
        for (const [k, at] of lastAdd) expect(lastStart.get(k)!).toBeGreaterThan(at);
      }),
      { numRuns: 100 },
    );
  });
});
