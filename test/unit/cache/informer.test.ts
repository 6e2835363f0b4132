import type { AddInfo, DeleteInfo, UpdateInfo } from '../../../lib/cache/handlers.js';
import { SharedInformer } from '../../../lib/cache/informer.js';
import { InformerMetrics } from '../../../lib/cache/metrics.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { Registry } from 'prom-client';
import { stepUntil, until } from './helpers.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const cm = (
  ns: string,
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: ns, name, labels },
  data,
});

/** Records handler calls as terse strings. */
function recorder() {
  const events: string[] = [];
  const name = (o: KubernetesObject): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const data = (o: KubernetesObject): string => JSON.stringify(o.data ?? {});
  return {
    events,
    handler: {
      onAdd: (o: KubernetesObject, i: AddInfo) =>
        void events.push(`add ${name(o)}${i.isInInitialList ? ' initial' : ''}`),
      onUpdate: (a: KubernetesObject, b: KubernetesObject, i: UpdateInfo) =>
        void events.push(`update ${name(b)} ${data(a)}->${data(b)}${i.isResync ? ' resync' : ''}`),
      onDelete: (o: KubernetesObject, i: DeleteInfo) =>
        void events.push(`delete ${name(o)} ${data(o)}${i.finalStateUnknown ? ' unknown' : ''}`),
    },
  };
}

let ac: AbortController;
let clock: FakeClock;
let fake: FakeClient;
let runs: Promise<void>[];

beforeEach(() => {
  ac = new AbortController();
  clock = new FakeClock(0);
  fake = new FakeClient({ clock });
  runs = [];
});

afterEach(async () => {
  ac.abort();
  await Promise.all(runs);
});

function start(inf: SharedInformer): void {
  runs.push(inf.run(ac.signal));
}

function informer(opts: Partial<ConstructorParameters<typeof SharedInformer>[1]> = {}): SharedInformer {
  return new SharedInformer(fake, { gvk: CM, clock, random: () => 0, ...opts });
}

describe('SharedInformer', () => {
  test('initial list, then create/update/delete in order with old and new objects', async () => {
    await fake.create(cm('a', 'one', { v: '1' }));
    const inf = informer();
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    expect(rec.events).toEqual(['add a/one initial']);

    await fake.create(cm('a', 'two'));
    await fake.patch(CM, { namespace: 'a', name: 'one' }, { type: 'merge', body: { data: { v: '2' } } });
    await fake.delete(CM, { namespace: 'a', name: 'two' });
    await until(() => rec.events.length === 4);
    expect(rec.events).toEqual([
      'add a/one initial',
      'add a/two',
      'update a/one {"v":"1"}->{"v":"2"}',
      'delete a/two {}',
    ]);
    expect(inf.store.get('a/one')?.data).toEqual({ v: '2' });
    expect(inf.store.has('a/two')).toBe(false);
  });

  test('a throwing or rejecting handler is logged and counted; the others and the informer go on', async () => {
    const registry = new Registry();
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m), warn: () => {}, info: () => {}, debug: () => {} };
    const inf = informer({ metrics: new InformerMetrics(registry), logger: logger as never });
    inf.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    inf.addEventHandler({ onAdd: async () => Promise.reject(new Error('async boom')) });
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    await fake.create(cm('a', 'x'));
    await fake.create(cm('a', 'y'));
    await until(() => rec.events.length === 2 && inf.stats.handlerErrors === 4);
    expect(errors).toHaveLength(4);
    expect(await registry.getSingleMetricAsString('steward_informer_handler_errors_total')).toContain(
      'steward_informer_handler_errors_total{gvk="ConfigMap.v1"} 4',
    );
    expect(inf.stats.watchRestarts.error).toBe(0);
  });

  test('a handler registered late gets the cache replayed as initial-list adds', async () => {
    await fake.create(cm('a', 'x'));
    const inf = informer();
    start(inf);
    await inf.waitForSync();
    const rec = recorder();
    const reg = inf.addEventHandler(rec.handler);
    expect(rec.events).toEqual(['add a/x initial']);
    expect(reg.hasSynced()).toBe(true);
    reg.remove();
    await fake.create(cm('a', 'y'));
    await until(() => inf.store.size === 2);
    expect(rec.events).toEqual(['add a/x initial']);
  });

  test('objects are frozen, managedFields dropped by default, kept with transform: false', async () => {
    await fake.create({
      ...cm('a', 'x'),
      metadata: { namespace: 'a', name: 'x', managedFields: [{ manager: 'm' }] },
    });
    const inf = informer();
    const raw = informer({ transform: false });
    start(inf);
    start(raw);
    await inf.waitForSync();
    await raw.waitForSync();
    const o = inf.store.get('a/x')!;
    expect(o.metadata?.managedFields).toBeUndefined();
    expect(raw.store.get('a/x')!.metadata?.managedFields).toEqual([{ manager: 'm' }]);
    expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (o.metadata as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  test('resync re-delivers every object as an update flagged isResync, every period', async () => {
    await fake.create(cm('a', 'x'));
    const inf = informer({ resyncPeriodMs: 60_000 });
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    clock.step(59_999);
    expect(rec.events).toEqual(['add a/x initial']);
    clock.step(1);
    clock.step(60_000);
    expect(rec.events).toEqual(['add a/x initial', 'update a/x {}->{} resync', 'update a/x {}->{} resync']);
  });

  test('410 Gone: re-lists and delivers what changed during the gap, deletes with last known state', async () => {
    await fake.create(cm('a', 'keep', { v: '1' }));
    await fake.create(cm('a', 'gone', { v: '1' }));
    const inf = informer();
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    await until(() => fake.watchCount === 1);
    fake.setWatchesSilent(true);
    await fake.patch(CM, { namespace: 'a', name: 'keep' }, { type: 'merge', body: { data: { v: '2' } } });
    await fake.delete(CM, { namespace: 'a', name: 'gone' });
    await fake.create(cm('a', 'new'));
    fake.compact();
    fake.setWatchesSilent(false);
    fake.closeWatches();
    await stepUntil(clock, () => rec.events.length === 5, 60_000, 'relist');
    expect(rec.events.slice(2)).toEqual([
      'update a/keep {"v":"1"}->{"v":"2"}',
      'add a/new',
      'delete a/gone {"v":"1"} unknown',
    ]);
    expect(inf.stats.watchRestarts.gone).toBe(1);
    expect(inf.stats.lists).toBe(2);
  });

  test('an object re-created under the same name during a gap is a delete and an add', async () => {
    await fake.create(cm('a', 'x', { v: '1' }));
    const inf = informer();
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    await until(() => fake.watchCount === 1);
    fake.setWatchesSilent(true);
    await fake.delete(CM, { namespace: 'a', name: 'x' });
    await fake.create(cm('a', 'x', { v: '2' }));
    fake.compact();
    fake.setWatchesSilent(false);
    fake.closeWatches();
    await stepUntil(clock, () => rec.events.length === 3, 60_000, 'relist');
    expect(rec.events).toEqual(['add a/x initial', 'delete a/x {"v":"1"} unknown', 'add a/x']);
  });

  test('a silent watch is replaced after the idle timeout and resumes without a re-list', async () => {
    await fake.create(cm('a', 'x', { v: '1' }));
    const inf = informer({ reflector: { watchIdleTimeoutMs: 30_000 } });
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    await until(() => fake.watchCount === 1);
    fake.setWatchesSilent(true);
    await fake.patch(CM, { namespace: 'a', name: 'x' }, { type: 'merge', body: { data: { v: '2' } } });
    await fake.delete(CM, { namespace: 'a', name: 'x' });
    fake.setWatchesSilent(false);
    await until(() => clock.pendingTimers() > 0);
    clock.step(29_999);
    expect(rec.events).toEqual(['add a/x initial']);
    await stepUntil(clock, () => rec.events.length === 3, 60_000, 'resumed watch');
    expect(rec.events).toEqual([
      'add a/x initial',
      'update a/x {"v":"1"}->{"v":"2"}',
      'delete a/x {"v":"2"}',
    ]);
    expect(inf.stats.watchRestarts.idle).toBe(1);
    expect(inf.stats.lists).toBe(1);
  });

  test('failing lists are retried with exponential backoff and never stop the informer', async () => {
    const attempts: number[] = [];
    let failures = 5;
    fake.prependReactor((a) => {
      if (a.verb !== 'list') return;
      attempts.push(clock.now());
      if (failures-- > 0) return new Error('connection refused');
    });
    const inf = informer();
    start(inf);
    await stepUntil(clock, () => inf.hasSynced(), 600_000, 'sync');
    expect(attempts).toEqual([0, 800, 2400, 5600, 12000, 24800]);
    expect(inf.stats.watchRestarts.error).toBe(5);
  });

  test('namespaces: one watch each, only their objects, synced when all have listed', async () => {
    await fake.create(cm('a', 'x'));
    await fake.create(cm('b', 'y'));
    await fake.create(cm('c', 'z'));
    const inf = informer({ namespaces: ['a', 'b'], isNamespaced: async () => true });
    start(inf);
    await inf.waitForSync();
    expect(inf.store.keys().sort()).toEqual(['a/x', 'b/y']);
    await until(() => fake.watchCount === 2);
  });

  test('a label-selected informer sees an object leave its selection as a delete', async () => {
    await fake.create(cm('a', 'x', {}, { app: 'web' }));
    const inf = informer({ labelSelector: { app: 'web' } });
    const rec = recorder();
    inf.addEventHandler(rec.handler);
    start(inf);
    await inf.waitForSync();
    await fake.patch(
      CM,
      { namespace: 'a', name: 'x' },
      { type: 'merge', body: { metadata: { labels: { app: 'db' } } } },
    );
    await until(() => rec.events.length === 2);
    expect(rec.events[1]).toBe('delete a/x {}');
    expect(inf.store.size).toBe(0);
  });

  test('stopping while the initial list is being delivered stops the informer', async () => {
    await fake.create(cm('a', 'x'));
    const inf = informer();
    const stop = new AbortController();
    inf.addEventHandler({ onAdd: () => stop.abort() });
    await inf.run(stop.signal);
    expect(fake.watchCount).toBe(0);
  });

  test('waitForSync resolves false when aborted first', async () => {
    const inf = informer();
    const stop = new AbortController();
    const p = inf.waitForSync(stop.signal);
    stop.abort();
    expect(await p).toBe(false);
  });
});
