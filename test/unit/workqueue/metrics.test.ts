import { Registry } from 'prom-client';
import { FakeClock } from '../../../lib/util/clock.js';
import { RateLimitingQueue } from '../../../lib/workqueue/index.js';

async function sample(
  registry: Registry,
  metric: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metric);
  const v = (
    m?.values as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>
  )?.find(
    (s) =>
      (s.metricName === undefined || s.metricName === metric || s.metricName === `${metric}_count`) &&
      Object.entries(labels).every(([k, val]) => s.labels[k] === val),
  );
  return v?.value;
}

describe('work queue metrics', () => {
  test("controller-runtime's names and labels, with values that follow the queue", async () => {
    const registry = new Registry();
    const clock = new FakeClock(0);
    const q = new RateLimitingQueue<string>({ name: 'session', registry, clock });
    const l = { name: 'session', controller: 'session' };
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      'workqueue_adds_total',
      'workqueue_depth',
      'workqueue_longest_running_processor_seconds',
      'workqueue_queue_duration_seconds',
      'workqueue_retries_total',
      'workqueue_unfinished_work_seconds',
      'workqueue_work_duration_seconds',
    ]);
    expect(await sample(registry, 'workqueue_depth', l)).toBe(0);

    q.add('a');
    q.add('a');
    q.add('b');
    expect(await sample(registry, 'workqueue_adds_total', l)).toBe(2);
    expect(await sample(registry, 'workqueue_depth', l)).toBe(2);

    clock.step(2000);
    const a = (await q.get())!;
    expect(await sample(registry, 'workqueue_depth', l)).toBe(1);
    clock.step(3000);
    expect(await sample(registry, 'workqueue_unfinished_work_seconds', l)).toBe(3);
    expect(await sample(registry, 'workqueue_longest_running_processor_seconds', l)).toBe(3);
    q.done(a);
    expect(await sample(registry, 'workqueue_unfinished_work_seconds', l)).toBe(0);
    expect(await sample(registry, 'workqueue_work_duration_seconds', l)).toBe(1);
    expect(await sample(registry, 'workqueue_longest_running_processor_seconds', l)).toBe(0);

    q.addRateLimited('c');
    expect(await sample(registry, 'workqueue_retries_total', l)).toBe(1);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE workqueue_queue_duration_seconds histogram');
    // Waited 2 s: not in the 1 s bucket, in the 10 s one (buckets are cumulative).
    expect(text).toContain(
      'workqueue_queue_duration_seconds_bucket{name="session",controller="session",le="1"} 0',
    );
    expect(text).toContain(
      'workqueue_queue_duration_seconds_bucket{name="session",controller="session",le="10"} 1',
    );
    expect(text).toContain(
      'workqueue_queue_duration_seconds_bucket{name="session",controller="session",le="+Inf"} 1',
    );
    expect(text).toContain('workqueue_queue_duration_seconds_sum{name="session",controller="session"} 2');
    expect(text).toContain('workqueue_work_duration_seconds_sum{name="session",controller="session"} 3');
  });

  test('the controller label can differ from the name; two queues share one registry', async () => {
    const registry = new Registry();
    const q1 = new RateLimitingQueue<string>({ name: 'a', controller: 'ctrl-a', registry });
    const q2 = new RateLimitingQueue<string>({ name: 'b', registry });
    q1.add('x');
    q2.add('x');
    q2.add('y');
    expect(await sample(registry, 'workqueue_depth', { name: 'a', controller: 'ctrl-a' })).toBe(1);
    expect(await sample(registry, 'workqueue_depth', { name: 'b', controller: 'b' })).toBe(2);
  });

  test('a name already taken by another kind of metric is an error', () => {
    const registry = new Registry();
    registry.registerMetric({
      name: 'workqueue_depth',
      help: 'x',
      type: 'counter',
      get: async () => ({}),
    } as never);
    expect(() => new RateLimitingQueue<string>({ name: 'q', registry })).toThrow(/workqueue_depth/);
  });

  test('a queue without a registry registers nothing anywhere', async () => {
    const q = new RateLimitingQueue<string>();
    q.add('a');
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('workqueue_depth')).toBeUndefined();
  });
});
