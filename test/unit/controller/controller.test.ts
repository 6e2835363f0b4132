import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import {
  Controller,
  ReconcileTimeoutError,
  TerminalError,
  type ReconcileContext,
  type Request,
  type Result,
} from '../../../lib/controller/index.js';
import { createLogger } from '../../../lib/log/index.js';
import { FakeClock } from '../../../lib/util/clock.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await flush();
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const s = (
    m?.values as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>
  ).find(
    (v) =>
      (v.metricName === undefined || v.metricName.endsWith('_count')) &&
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return s?.value ?? NaN;
}

function setup(
  fn: (req: Request, calls: number, ctx: ReconcileContext) => Promise<Result | void>,
  workers = 1,
  reconcileTimeoutMs = 0,
) {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const calls = new Map<string, number>();
  const c = new Controller(
    'test',
    {
      reconcile: async (req, ctx) => {
        const n = (calls.get(req.name) ?? 0) + 1;
        calls.set(req.name, n);
        return fn(req, n, ctx);
      },
    },
    { clock, registry, maxConcurrentReconciles: workers, reconcileTimeoutMs },
  );
  const stop = new AbortController();
  const running = c.start(stop.signal);
  return { clock, registry, calls, c, stop, running };
}

describe('Controller outcomes', () => {
  test('success forgets; errors back off 5, 10, 20 ms via the rate limiter', async () => {
    const { clock, calls, c, stop, running, registry } = setup(async (_req, n) => {
      if (n <= 3) throw new Error(`failure ${n}`);
    });
    c.enqueue({ namespace: 'ns', name: 'a' });
    const key = { namespace: 'ns', name: 'a' };
    await waitFor(() => calls.get('a') === 1, 'first call');
    await flush();
    expect(c.queue.numRequeues(key)).toBe(1);
    for (const [delay, attempt] of [
      [5, 2],
      [10, 3],
      [20, 4],
    ] as const) {
      clock.step(delay - 1);
      await flush();
      expect(calls.get('a')).toBe(attempt - 1);
      clock.step(1);
      await waitFor(() => calls.get('a') === attempt, `attempt ${attempt}`);
    }
    await flush();
    expect(c.queue.numRequeues(key)).toBe(0);
    expect(await metric(registry, 'controller_runtime_reconcile_errors_total', { controller: 'test' })).toBe(
      3,
    );
    expect(
      await metric(registry, 'controller_runtime_reconcile_total', { controller: 'test', result: 'error' }),
    ).toBe(3);
    expect(
      await metric(registry, 'controller_runtime_reconcile_total', { controller: 'test', result: 'success' }),
    ).toBe(1);
    stop.abort();
    await running;
  });

  test('TerminalError is not retried and is counted', async () => {
    const { clock, calls, c, stop, running, registry } = setup(async () => {
      throw new TerminalError('bad spec');
    });
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'call');
    clock.step(60_000);
    await flush();
    expect(calls.get('a')).toBe(1);
    expect(c.queue.numRequeues({ name: 'a' })).toBe(0);
    expect(
      await metric(registry, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'test' }),
    ).toBe(1);
    stop.abort();
    await running;
  });

  test('requeueAfterMs is honoured exactly and clears the backoff', async () => {
    const { clock, calls, c, stop, running, registry } = setup(async (_req, n) => {
      if (n === 1) throw new Error('once');
      if (n === 2) return { requeueAfterMs: 1000 };
    });
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'first');
    clock.step(5);
    await waitFor(() => calls.get('a') === 2, 'second');
    await flush();
    expect(c.queue.numRequeues({ name: 'a' })).toBe(0);
    clock.step(999);
    await flush();
    expect(calls.get('a')).toBe(2);
    clock.step(1);
    await waitFor(() => calls.get('a') === 3, 'third');
    expect(
      await metric(registry, 'controller_runtime_reconcile_total', {
        controller: 'test',
        result: 'requeue_after',
      }),
    ).toBe(1);
    stop.abort();
    await running;
  });

  test('requeue: true goes through the rate limiter', async () => {
    const { clock, calls, c, stop, running } = setup(async (_req, n) =>
      n < 3 ? { requeue: true } : undefined,
    );
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'first');
    await flush();
    expect(c.queue.numRequeues({ name: 'a' })).toBe(1);
    clock.step(5);
    await waitFor(() => calls.get('a') === 2, 'second');
    clock.step(10);
    await waitFor(() => calls.get('a') === 3, 'third');
    stop.abort();
    await running;
  });

  test('a panic (TypeError) or a thrown non-Error never kills a worker; panics are counted', async () => {
    const { clock, calls, c, stop, running, registry } = setup(async (req, n) => {
      if (req.name === 'a' && n === 1) (undefined as unknown as { x: number }).x = 1;
      if (req.name === 'b' && n === 1) throw 'a string';
    });
    c.enqueue({ name: 'a' });
    c.enqueue({ name: 'b' });
    await waitFor(() => calls.get('a') === 1 && calls.get('b') === 1, 'both');
    clock.step(10);
    await waitFor(() => calls.get('a') === 2 && calls.get('b') === 2, 'retries');
    expect(await metric(registry, 'controller_runtime_reconcile_panics_total', { controller: 'test' })).toBe(
      2,
    );
    stop.abort();
    await running;
  });
});

describe('Controller concurrency and stopping', () => {
  test('never two reconciles of one key at once; different keys run in parallel', async () => {
    let active = 0;
    let maxActive = 0;
    const activeKeys = new Set<string>();
    let overlap = false;
    const gates: Array<() => void> = [];
    const { c, stop, running, calls } = setup(async (req) => {
      if (activeKeys.has(req.name)) overlap = true;
      activeKeys.add(req.name);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => gates.push(r));
      active--;
      activeKeys.delete(req.name);
    }, 4);
    for (const n of ['a', 'b', 'c', 'd', 'e']) c.enqueue({ name: n });
    await waitFor(() => gates.length === 4, '4 in flight');
    for (let i = 0; i < 10; i++) c.enqueue({ name: 'a' });
    while (gates.length > 0 || c.queue.len() > 0) {
      gates.shift()?.();
      await flush();
    }
    expect(overlap).toBe(false);
    expect(maxActive).toBe(4);
    expect(calls.get('a')).toBe(2);
    stop.abort();
    await running;
  });

  test('on abort: no new work is started; in-flight reconciles finish', async () => {
    let release: () => void = () => {};
    const { c, stop, running, calls } = setup(async (req) => {
      if (req.name === 'slow') await new Promise<void>((r) => (release = r));
    });
    c.enqueue({ name: 'slow' });
    await waitFor(() => calls.get('slow') === 1, 'slow started');
    c.enqueue({ name: 'queued' });
    stop.abort();
    let finished = false;
    void running.then(() => (finished = true));
    await flush();
    expect(finished).toBe(false);
    release();
    await running;
    expect(calls.get('queued')).toBeUndefined();
  });

  test('a reconcile past its timeout sees its signal aborted, is counted and retried', async () => {
    let reason: unknown;
    const { clock, c, stop, running, registry, calls } = setup(
      (_req, n, ctx) =>
        new Promise<void>((resolve, reject) => {
          if (n > 1) return resolve();
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        }),
      1,
      30_000,
    );
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'started');
    clock.step(29_999);
    await flush();
    expect(reason).toBeUndefined();
    clock.step(1);
    await flush();
    expect(reason).toBeInstanceOf(ReconcileTimeoutError);
    expect(
      await metric(registry, 'steward_controller_reconcile_timeouts_total', { controller: 'test' }),
    ).toBe(1);
    clock.step(5);
    await waitFor(() => calls.get('a') === 2, 'retried');
    stop.abort();
    await running;
  });

  test('abortInFlight aborts the signals of running reconciles', async () => {
    let aborted = false;
    const { c, running, calls } = setup(
      (_req, _n, ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    );
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'started');
    c.abortInFlight();
    await running;
    expect(aborted).toBe(true);
  });

  test('bad options are rejected', () => {
    const r = { reconcile: async () => {} };
    expect(() => new Controller('x', r, { maxConcurrentReconciles: 0 })).toThrow(RangeError);
    expect(() => new Controller('x', r, { maxConcurrentReconciles: 1.5 })).toThrow(RangeError);
    expect(() => new Controller('x', r, { reconcileTimeoutMs: -1 })).toThrow(RangeError);
    for (const [option, value] of [
      ['reconcileTimeoutMs', NaN],
      ['reconcileTimeoutMs', Infinity],
      ['cacheSyncTimeoutMs', 0],
      ['cacheSyncTimeoutMs', -1],
      ['cacheSyncTimeoutMs', NaN],
      ['cacheSyncTimeoutMs', Infinity],
    ] as const) {
      expect(() => new Controller('x', r, { [option]: value })).toThrow(
        new RegExp(`^controller x: ${option} must be a finite number`),
      );
    }
    expect(new Controller('x', r, { cacheSyncTimeoutMs: 5_000 }).cacheSyncTimeoutMs).toBe(5_000);
  });
});

describe('Results a reconciler must not return', () => {
  // Plain JavaScript (or an `as any`) can return anything. Each of these is a bug in the
  // reconciler: it is counted and logged as an error and retried with backoff, never taken
  // at face value (a string delay is concatenated to the clock, a NaN priority reorders the
  // queue) and never a hot loop.
  const garbage: Array<[string, unknown, RegExp]> = [
    ['a string delay', { requeueAfterMs: '1000' }, /requeueAfterMs must be a number, got "1000"/],
    ['a BigInt delay', { requeueAfterMs: 10n }, /requeueAfterMs must be a number, got 10n/],
    ['a NaN priority', { requeueAfterMs: 100, priority: NaN }, /priority must be a number, got NaN/],
    ['a string priority', { requeue: true, priority: 'high' }, /priority must be a number, got "high"/],
    ['a non-boolean requeue', { requeue: 'yes' }, /requeue must be a boolean, got "yes"/],
    ['a number', 5, /not a Result: 5/],
  ];
  for (const [what, result, message] of garbage) {
    test(`${what}: counted as an error, logged with what was wrong, retried after the backoff`, async () => {
      const clock = new FakeClock();
      const registry = new Registry();
      const logged: unknown[] = [];
      const logger = createLogger({ level: 'error', stream: new PassThrough() });
      logger.on('data', (info: { level: string; error?: unknown }) => {
        if (info.level === 'error') logged.push(info.error);
      });
      let calls = 0;
      const c = new Controller(
        'garbage',
        {
          reconcile: async () => {
            calls++;
            return (calls === 1 ? result : undefined) as Result;
          },
        },
        { clock, registry, logger },
      );
      const stop = new AbortController();
      const running = c.start(stop.signal);
      c.enqueue({ name: 'a' });
      await waitFor(() => calls === 1, 'first call');
      await flush();
      expect(c.queue.len() + c.queue.waitingLen()).toBe(1);
      clock.step(5); // the first backoff of the default rate limiter
      await waitFor(() => calls === 2, 'the retry');
      const count = (result: string) =>
        metric(registry, 'controller_runtime_reconcile_total', { controller: 'garbage', result });
      expect([await count('error'), await count('success')]).toEqual([1, 1]);
      expect(logged).toHaveLength(1);
      expect((logged[0] as Error).message).toMatch(message);
      stop.abort();
      await running;
    });
  }

  test('requeueAfterMs of Infinity means never: nothing is kept waiting for it', async () => {
    const { calls, c, stop, running } = setup(async () => ({ requeueAfterMs: Infinity }));
    c.enqueue({ name: 'a' });
    await waitFor(() => calls.get('a') === 1, 'call');
    await flush();
    expect([c.queue.len(), c.queue.waitingLen()]).toEqual([0, 0]);
    stop.abort();
    await running;
  });
});
