import fc from 'fast-check';
import { Registry } from 'prom-client';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  type AddOptions,
  exponentialFailureRateLimiter,
  LOW_PRIORITY,
  Queue,
  RateLimitingQueue,
} from '../../../lib/workqueue/index.js';

/**
 * Priority aging, checked against the bound `Queue` documents:
 *
 *   An item's aging clock starts when it is queued, or, if its level was then the only one,
 *   when work at another level next appears (until then nothing can overtake it). Once an
 *   item's aging clock reads `maxPriorityWaitMs`, every `get()` hands out that item or one
 *   queued before it.
 *
 * The model below computes each queued item's aging start independently of the queue and
 * checks every hand-out against it, over random interleavings of adds (at random priorities,
 * so raises too), gets, dones and clock steps, with metrics off and on.
 */

const MAX_WAIT = 100;

test('one worker, steady high-priority traffic one item at a time: the low item goes at the bound', async () => {
  const clock = new FakeClock(0);
  const q = new Queue<string>({ clock, maxPriorityWaitMs: 1000 });
  q.add('low', { priority: LOW_PRIORITY });
  let servedAt: number | undefined;
  // The high level drains on every get and reappears on the next add: the low item's wait
  // must keep counting across those gaps.
  for (let i = 0; i < 10_000 && servedAt === undefined; i++) {
    q.add(`h${i}`);
    const item = (await q.get())!;
    if (item === 'low') servedAt = clock.monotonic();
    q.done(item);
    clock.step(10);
  }
  expect(servedAt).toBe(1000);
});

test('the wait does not restart when the higher level drains for a while and comes back', async () => {
  const clock = new FakeClock(0);
  const q = new Queue<string>({ clock, maxPriorityWaitMs: 1000 });
  q.add('busy');
  expect(await q.get()).toBe('busy'); // the one worker is busy: nothing else is handed out
  q.add('low', { priority: LOW_PRIORITY });
  q.add('h0');
  clock.step(600);
  q.done('busy');
  expect(await q.get()).toBe('h0');
  clock.step(300); // only 'low' is queued now
  q.done('h0');
  q.add('h1');
  expect(await q.get()).toBe('h1'); // 900 ms: not overdue yet
  q.add('h2');
  clock.step(100);
  q.done('h1');
  expect(await q.get()).toBe('low'); // 1000 ms since 'h0' appeared next to it
});

type Cmd =
  | { op: 'add'; key: string; priority: number }
  | { op: 'addAfter'; key: string; priority: number; delay: number }
  | { op: 'addRateLimited'; key: string; priority: number }
  | { op: 'get' }
  | { op: 'done'; pick: number }
  | { op: 'step'; ms: number }
  | { op: 'shutDownWithDrain' };

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const key = fc.constantFrom(...KEYS);
const priority = fc.constantFrom(LOW_PRIORITY, -1, 0, 0, 5);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('add' as const), key, priority }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'get' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('done' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('step' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(MAX_WAIT)),
    }),
  },
);
// The delaying layers feed the same levels: items due after a delay or a retry's backoff
// arrive with their priority (the timer adds them), and a drain keeps serving what is queued.
const delayedCmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 12, arbitrary: cmd },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('addAfter' as const),
      key,
      priority,
      delay: fc.oneof(fc.integer({ min: -5, max: 40 }), fc.constant(MAX_WAIT)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('addRateLimited' as const), key, priority }) },
);
// Commands with, at some point or never, a drain.
const delayedCmds: fc.Arbitrary<Cmd[]> = fc
  .tuple(fc.array(delayedCmd, { maxLength: 150 }), fc.option(fc.nat(150)))
  .map(([cmds, at]) =>
    at === null ? cmds : [...cmds.slice(0, at), { op: 'shutDownWithDrain' as const }, ...cmds.slice(at)],
  );

/** A rate-limiting queue that reports every add it is given, the delay timer's included. */
class ReportingQueue extends RateLimitingQueue<string> {
  constructor(
    clock: FakeClock,
    registry: Registry | undefined,
    readonly onAdd: (key: string, priority: number) => void,
  ) {
    super({
      clock,
      registry,
      maxPriorityWaitMs: MAX_WAIT,
      rateLimiter: exponentialFailureRateLimiter(1, 32),
    });
  }
  override add(item: string, opts?: AddOptions): void {
    if (!this.shuttingDown()) this.onAdd(item, opts?.priority ?? 0);
    super.add(item, opts);
  }
}

interface Queued {
  seq: number;
  priority: number;
  /** When its aging clock started; undefined while its level has been the only one. */
  agingFrom: number | undefined;
}

async function check(cmds: Cmd[], withMetrics: boolean, delaying = false): Promise<void> {
  const clock = new FakeClock(0);
  const registry = withMetrics ? new Registry() : undefined;
  // With `delaying`, the model learns of every add from the queue itself (the timer adds too).
  const modelled = delaying
    ? new ReportingQueue(clock, registry, (key, priority) => modelAdd(key, priority))
    : undefined;
  const q = modelled ?? new Queue<string>({ clock, maxPriorityWaitMs: MAX_WAIT, registry });
  let seq = 0;
  const queued = new Map<string, Queued>();
  const processing = new Map<string, { dirty: boolean; priority: number }>();

  const startAgingIfShared = (): void => {
    const levels = new Set([...queued.values()].map((x) => x.priority));
    if (levels.size < 2) return;
    for (const x of queued.values()) x.agingFrom ??= clock.monotonic();
  };
  const push = (key: string, priority: number): void => {
    queued.set(key, { seq: seq++, priority, agingFrom: undefined });
    startAgingIfShared();
  };
  function modelAdd(key: string, priority: number): void {
    const inQueue = queued.get(key);
    const inWork = processing.get(key);
    if (inQueue !== undefined) {
      // A raise keeps the item's place in time (seq) and its aging clock.
      if (priority > inQueue.priority) inQueue.priority = priority;
      startAgingIfShared();
    } else if (inWork !== undefined) {
      inWork.priority = inWork.dirty ? Math.max(inWork.priority, priority) : priority;
      inWork.dirty = true;
    } else {
      push(key, priority);
    }
  }

  for (const c of cmds) {
    switch (c.op) {
      case 'add':
        q.add(c.key, { priority: c.priority });
        if (modelled === undefined) modelAdd(c.key, c.priority);
        break;
      case 'addAfter':
        modelled?.addAfter(c.key, c.delay, { priority: c.priority });
        break;
      case 'addRateLimited':
        modelled?.addRateLimited(c.key, { priority: c.priority });
        break;
      case 'shutDownWithDrain':
        void modelled?.shutDownWithDrain();
        break;
      case 'get': {
        if (queued.size === 0) break; // a get on an empty queue would wait: not modelled here
        const now = clock.monotonic();
        const got = (await q.get())!;
        const y = queued.get(got);
        if (y === undefined) throw new Error(`${got} handed out but not queued`);
        for (const [key, x] of queued) {
          const overdue = x.agingFrom !== undefined && now - x.agingFrom >= MAX_WAIT;
          // The bound: an item that has aged the full wait is overtaken by nothing queued after it;
          // an item whose aging has not started (its level alone) by nothing at all.
          if ((overdue || x.agingFrom === undefined) && y.seq > x.seq) {
            throw new Error(
              `at ${now}: ${got} (queued #${y.seq}, priority ${y.priority}) handed out before ` +
                `${key} (queued #${x.seq}, priority ${x.priority}, aging since ${x.agingFrom})`,
            );
          }
        }
        // And below the bound, priority order: nothing overdue means the highest level's oldest.
        if (![...queued.values()].some((x) => x.agingFrom !== undefined && now - x.agingFrom >= MAX_WAIT)) {
          const top = Math.max(...[...queued.values()].map((x) => x.priority));
          const first = Math.min(...[...queued.values()].filter((x) => x.priority === top).map((x) => x.seq));
          if (y.seq !== first)
            throw new Error(`at ${now}: ${got} handed out, not the oldest of level ${top}`);
        }
        queued.delete(got);
        processing.set(got, { dirty: false, priority: 0 });
        break;
      }
      case 'done': {
        const keys = [...processing.keys()];
        if (keys.length === 0) break;
        const key = keys[c.pick % keys.length]!;
        const p = processing.get(key)!;
        processing.delete(key);
        q.done(key);
        if (p.dirty) push(key, p.priority);
        break;
      }
      case 'step':
        clock.step(c.ms);
        break;
    }
  }
  expect(q.len()).toBe(queued.size);
}

describe('aging bound over random interleavings', () => {
  for (const withMetrics of [false, true]) {
    test(`adds at random priorities, gets, dones and clock steps (metrics ${withMetrics ? 'on' : 'off'})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { maxLength: 120 }), (cmds) => check(cmds, withMetrics)),
        { numRuns: 500 },
      );
    });
  }

  test('with addAfter and addRateLimited feeding priorities, and a drain', async () => {
    await fc.assert(
      fc.asyncProperty(delayedCmds, fc.boolean(), (cmds, withMetrics) => check(cmds, withMetrics, true)),
      { numRuns: 500 },
    );
  });
});
