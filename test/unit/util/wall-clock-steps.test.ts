import { Registry } from 'prom-client';
import { ReconnectBackoff } from '../../../lib/cache/backoff.js';
import { Reflector } from '../../../lib/cache/reflector.js';
import { DiscoveryRESTMapper } from '../../../lib/client/rest-mapper.js';
import { NoKindMatchError } from '../../../lib/client/errors.js';
import { TokenBucket } from '../../../lib/client/throttle.js';
import { Controller } from '../../../lib/controller/index.js';
import { EventRecorder } from '../../../lib/events/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { bucketRateLimiter, DelayingQueue, Queue } from '../../../lib/workqueue/index.js';
import { stepUntil, until } from '../cache/helpers.js';

/**
 * Durations are measured on the clock's monotonic reading; only timestamps written to the API
 * follow the wall clock. `FakeClock.stepWall` is an NTP step of the wall clock alone, either
 * way: none of these components may notice it.
 */

const HOUR = 3_600_000;

describe.each([
  ['forward', +2 * HOUR],
  ['back', -2 * HOUR],
])('a wall-clock step %s', (_dir, wallStep) => {
  test('delayed items are added neither early nor late', () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('soon', 10);
    q.addAfter('later', HOUR);
    clock.stepWall(wallStep);
    q.addAfter('after-step', 20);
    clock.step(10);
    expect(q.len()).toBe(1);
    clock.step(10);
    expect(q.len()).toBe(2);
    clock.step(HOUR - 21);
    expect(q.len()).toBe(2);
    clock.step(1);
    expect(q.len()).toBe(3);
  });

  test('the bucket rate limiter is neither refilled nor starved by it', () => {
    const clock = new FakeClock();
    const limiter = bucketRateLimiter<string>(10, 1, { clock });
    expect(limiter.when('a')).toBe(0);
    expect(limiter.when('a')).toBe(100);
    clock.stepWall(wallStep);
    expect(limiter.when('a')).toBe(200);
    clock.step(1000);
    // 1 s at 10 qps refills 10 tokens: the debt of 2, then the burst of 1.
    expect(limiter.when('a')).toBe(0);
  });

  test('the client throttle is neither refilled nor starved by it', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 2, clock });
    expect([bucket.tryAcquire(), bucket.tryAcquire(), bucket.tryAcquire()]).toEqual([true, true, false]);
    clock.stepWall(wallStep);
    expect(bucket.tryAcquire()).toBe(false);
    clock.step(1000);
    expect([bucket.tryAcquire(), bucket.tryAcquire()]).toEqual([true, false]);
  });

  test('reconnect backoff neither resets nor stalls', () => {
    const clock = new FakeClock();
    const b = new ReconnectBackoff(clock, { initialMs: 100, maxMs: 10_000, resetAfterMs: 60_000 }, () => 0);
    expect([b.next(), b.next()]).toEqual([100, 200]);
    clock.stepWall(wallStep);
    expect(b.next()).toBe(400);
    clock.step(60_000);
    expect(b.next()).toBe(100);
  });

  test('event aggregation window and per-object budget follow monotonic time; timestamps the wall', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const r = new EventRecorder(client, { component: 'steward', clock, burst: 2, refillMs: HOUR });
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p', uid: 'u' } };
    await r.event(obj, 'Warning', 'Failed', 'boom');
    clock.stepWall(wallStep);
    await r.event(obj, 'Warning', 'Failed', 'boom');
    const events = (
      await client.list<{ count: number; lastTimestamp: string }>(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: 'ns' },
      )
    ).items;
    expect(events.map((e) => e.count)).toEqual([2]);
    expect(Date.parse(events[0]!.lastTimestamp)).toBe(clock.now() - (clock.now() % 1000));
    // The budget of 2 is spent; a wall step must not refill it.
    await r.event(obj, 'Warning', 'Other', 'x');
    expect(r.dropped).toBe(1);
  });

  test('the REST mapper does not re-discover a missing kind early', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const m = new DiscoveryRESTMapper(
      async () => {
        calls++;
        return { resources: [] };
      },
      { clock, missRefreshIntervalMs: 10_000 },
    );
    const gadget = { group: 'x.dev', version: 'v1', kind: 'Gadget' };
    await expect(m.mappingFor(gadget)).rejects.toThrow(NoKindMatchError);
    clock.stepWall(wallStep);
    await expect(m.mappingFor(gadget)).rejects.toThrow(NoKindMatchError);
    expect(calls).toBe(1);
    clock.step(10_000);
    await expect(m.mappingFor(gadget)).rejects.toThrow(NoKindMatchError);
    expect(calls).toBe(2);
  });

  test('a watch closed at once still counts as too short, and backs off', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient({ clock });
    const watchesAt: number[] = [];
    fake.prependReactor((a) => void (a.verb === 'watch' && watchesAt.push(clock.monotonic())));
    const ac = new AbortController();
    const r = new Reflector(
      fake,
      { replace: () => {}, event: () => {} },
      {
        gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
        clock,
        random: () => 0,
      },
    );
    const run = r.run(ac.signal);
    try {
      await until(() => fake.watchCount === 1);
      clock.stepWall(wallStep);
      fake.closeWatches();
      await stepUntil(clock, () => watchesAt.length === 2, 60_000);
      expect(watchesAt.map((t) => t - watchesAt[0]!)).toEqual([0, 800]);
    } finally {
      ac.abort();
      await run;
    }
  });

  test('queue and reconcile durations in metrics are what passed, not the step', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const c = new Controller(
      'steps',
      {
        reconcile: async () => {
          clock.stepWall(wallStep);
          clock.step(50);
        },
      },
      { clock, registry },
    );
    const stop = new AbortController();
    const running = c.start(stop.signal);
    c.enqueue({ name: 'a' });
    await until(() => c.queue.len() === 0 && c.queue.processingLen() === 0);
    stop.abort();
    await running;
    const sum = async (name: string): Promise<number | undefined> =>
      (
        (await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values as
          Array<{ metricName?: string; value: number }> | undefined
      )?.find((v) => v.metricName === `${name}_sum`)?.value;
    expect(await sum('controller_runtime_reconcile_time_seconds')).toBeCloseTo(0.05, 6);
    expect(await sum('workqueue_work_duration_seconds')).toBeCloseTo(0.05, 6);
  });

  test('priority aging counts monotonic time', async () => {
    const clock = new FakeClock();
    const q = new Queue<string>({ clock, maxPriorityWaitMs: 1000 });
    q.add('low', { priority: -100 });
    q.add('high');
    clock.stepWall(wallStep);
    q.add('high-2');
    expect(await q.get()).toBe('high');
    clock.step(1000);
    expect(await q.get()).toBe('low');
  });
});
