import { Registry } from 'prom-client';
import type { AddInfo, DeleteInfo, UpdateInfo } from '../../../lib/cache/handlers.js';
import { SharedInformer } from '../../../lib/cache/informer.js';
import { InformerMetrics } from '../../../lib/cache/metrics.js';
import { IndexFunctionError, Store } from '../../../lib/cache/store.js';
import type { Transform } from '../../../lib/cache/transform.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { stepUntil, until } from './helpers.js';

/**
 * A throwing index function or transform is contained like a throwing handler: counted, logged
 * once per object, and the informer carries on with the other events. The choices:
 * - index function throws: the object is stored and dispatched, but is missing from that index
 *   (as if the function had returned no values) until a version of it indexes cleanly;
 * - transform throws: the version is not stored and not dispatched; the cache keeps the version
 *   it had (or none), and the next event for the object tries again. A delete still deletes.
 */

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const cm = (name: string, data: Record<string, string>): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'a', name },
  data,
});

let ac: AbortController;
let clock: FakeClock;
let fake: FakeClient;
let run: Promise<void> | undefined;

beforeEach(() => {
  ac = new AbortController();
  clock = new FakeClock(0);
  fake = new FakeClient({ clock });
  run = undefined;
});

afterEach(async () => {
  ac.abort();
  await run;
});

function harness(opts: {
  transform?: Transform;
  indexers?: Record<string, (o: KubernetesObject) => string[]>;
}) {
  const registry = new Registry();
  const logged: Array<{ message: string; key?: unknown; index?: unknown }> = [];
  const log = (message: string, meta?: Record<string, unknown>) =>
    void logged.push({ message, key: meta?.key, index: meta?.index });
  const logger = { error: log, warn: log, info: () => {}, debug: () => {} };
  const inf = new SharedInformer(fake, {
    gvk: CM,
    clock,
    random: () => 0,
    metrics: new InformerMetrics(registry),
    logger: logger as never,
    ...opts,
  });
  const events: string[] = [];
  const data = (o: KubernetesObject) => JSON.stringify(o.data);
  inf.addEventHandler({
    onAdd: (o: KubernetesObject, _i: AddInfo) => void events.push(`add ${o.metadata!.name} ${data(o)}`),
    onUpdate: (a: KubernetesObject, b: KubernetesObject, i: UpdateInfo) =>
      void (i.isResync || events.push(`update ${b.metadata!.name} ${data(a)}->${data(b)}`)),
    onDelete: (o: KubernetesObject, i: DeleteInfo) =>
      void events.push(`delete ${o.metadata!.name} ${data(o)}${i.finalStateUnknown ? ' unknown' : ''}`),
  });
  run = inf.run(ac.signal);
  return { inf, events, logged, registry };
}

const color = (o: KubernetesObject): string[] => {
  const c = (o.data as Record<string, string>).color!;
  if (c === 'bad') throw new Error(`cannot index ${o.metadata!.name}`);
  return [c];
};

describe('a throwing index function', () => {
  test('the object is stored unindexed there, the store stays consistent, the informer goes on', async () => {
    await fake.create(cm('red', { color: 'red' }));
    await fake.create(cm('listed-bad', { color: 'bad' }));
    const { inf, events, logged, registry } = harness({ indexers: { color } });
    // On a store that threw half-way through indexing, the list never completed: no sync.
    await until(() => inf.hasSynced(), 'sync despite an index function that throws');
    await fake.create(cm('watched-bad', { color: 'bad' }));
    await fake.create(cm('blue', { color: 'blue' }));
    await until(() => events.length === 4, 'four adds');
    expect(events).toEqual([
      'add listed-bad {"color":"bad"}',
      'add red {"color":"red"}',
      'add watched-bad {"color":"bad"}',
      'add blue {"color":"blue"}',
    ]);
    expect(inf.store.keys().sort()).toEqual(['a/blue', 'a/listed-bad', 'a/red', 'a/watched-bad']);
    expect(inf.store.indexKeys('color', 'red')).toEqual(['a/red']);
    expect(inf.store.indexKeys('color', 'bad')).toEqual([]);
    // The other indexes have the object.
    expect(inf.store.indexKeys('namespace', 'a').sort()).toEqual(inf.store.keys().sort());

    // A new version that still fails is counted again, but not logged again.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'watched-bad' },
      { type: 'merge', body: { data: { x: '1' } } },
    );
    await until(() => inf.stats.indexErrors === 3, 'third index error');
    expect(logged.map((l) => l.key)).toEqual(['a/listed-bad', 'a/watched-bad']);
    expect(logged.every((l) => l.index === 'color')).toBe(true);

    // A version that indexes cleanly is indexed; a version that fails leaves no stale value.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'watched-bad' },
      { type: 'merge', body: { data: { color: 'green' } } },
    );
    await fake.patch(
      CM,
      { namespace: 'a', name: 'red' },
      { type: 'merge', body: { data: { color: 'bad' } } },
    );
    await until(() => inf.stats.indexErrors === 4, 'fourth index error');
    expect(inf.store.indexKeys('color', 'green')).toEqual(['a/watched-bad']);
    expect(inf.store.indexKeys('color', 'red')).toEqual([]);
    // Recovered and failed again: logged again, once.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'watched-bad' },
      { type: 'merge', body: { data: { color: 'bad' } } },
    );
    await until(() => inf.stats.indexErrors === 5, 'fifth index error');
    expect(logged.map((l) => l.key)).toEqual(['a/listed-bad', 'a/watched-bad', 'a/red', 'a/watched-bad']);

    expect(inf.stats.watchRestarts).toEqual({ closed: 0, gone: 0, idle: 0, error: 0 });
    expect(inf.stats.lists).toBe(1);
    expect(await registry.getSingleMetricAsString('steward_informer_index_errors_total')).toContain(
      'steward_informer_index_errors_total{gvk="ConfigMap.v1",index="color"} 5',
    );
  });

  test('an index added after start over objects it cannot index', async () => {
    await fake.create(cm('ok', { color: 'red' }));
    await fake.create(cm('bad', { color: 'bad' }));
    const { inf } = harness({});
    await until(() => inf.hasSynced());
    inf.addIndexer('color', color);
    expect(inf.store.indexKeys('color', 'red')).toEqual(['a/ok']);
    expect(inf.stats.indexErrors).toBe(1);
  });
});

describe('a throwing transform', () => {
  const transform: Transform = (o) => {
    if ((o.data as Record<string, string> | undefined)?.fail === 'yes') {
      // Half-way through: the object is left partly transformed.
      (o.data as Record<string, string>).touched = 'yes';
      throw new Error(`cannot transform ${o.metadata!.name}`);
    }
    return o;
  };

  test('the version is skipped, the cache keeps what it had, the informer goes on', async () => {
    await fake.create(cm('listed-bad', { fail: 'yes' }));
    await fake.create(cm('flaky', { v: '1' }));
    const { inf, events, logged, registry } = harness({ transform });
    await until(() => inf.hasSynced(), 'sync despite a transform that throws');
    await fake.create(cm('watched-bad', { fail: 'yes' }));
    await fake.patch(
      CM,
      { namespace: 'a', name: 'flaky' },
      { type: 'merge', body: { data: { fail: 'yes' } } },
    );
    await fake.create(cm('after', { v: '1' }));
    await until(() => events.length === 2, 'events');
    expect(events).toEqual(['add flaky {"v":"1"}', 'add after {"v":"1"}']);
    expect(inf.store.keys().sort()).toEqual(['a/after', 'a/flaky']);
    expect(inf.store.get('a/flaky')!.data).toEqual({ v: '1' });
    expect(inf.stats.transformErrors).toBe(3);

    // Failing again: counted, not logged again.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'watched-bad' },
      { type: 'merge', body: { data: { v: '2' } } },
    );
    await until(() => inf.stats.transformErrors === 4);
    expect(logged.map((l) => l.key)).toEqual(['a/listed-bad', 'a/watched-bad', 'a/flaky']);

    // The next version that transforms cleanly goes through, as an update from the one cached.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'flaky' },
      { type: 'merge', body: { data: { fail: 'no' } } },
    );
    await until(() => events.length === 3);
    expect(events[2]).toBe('update flaky {"v":"1"}->{"v":"1","fail":"no"}');

    // A delete deletes, whatever the transform does; it is dispatched with the last state cached.
    await fake.patch(
      CM,
      { namespace: 'a', name: 'flaky' },
      { type: 'merge', body: { data: { fail: 'yes' } } },
    );
    await until(() => inf.stats.transformErrors === 5);
    await fake.delete(CM, { namespace: 'a', name: 'flaky' });
    await fake.delete(CM, { namespace: 'a', name: 'watched-bad' });
    await until(() => !inf.store.has('a/flaky'));
    await fake.create(cm('last', { v: '1' }));
    await until(() => events.length === 5);
    expect(events.slice(3)).toEqual(['delete flaky {"v":"1","fail":"no"} unknown', 'add last {"v":"1"}']);
    expect(inf.store.keys().sort()).toEqual(['a/after', 'a/last']);
    // The deleted objects' final states failed too (7 in all); 'flaky' was logged again when it
    // failed after having recovered, and not for its delete.
    expect(inf.stats.transformErrors).toBe(7);
    expect(logged.map((l) => l.key)).toEqual(['a/listed-bad', 'a/watched-bad', 'a/flaky', 'a/flaky']);

    expect(inf.stats.watchRestarts).toEqual({ closed: 0, gone: 0, idle: 0, error: 0 });
    expect(await registry.getSingleMetricAsString('steward_informer_transform_errors_total')).toContain(
      'steward_informer_transform_errors_total{gvk="ConfigMap.v1"} 7',
    );
  });

  test('a re-list keeps the cached version of an object it cannot transform', async () => {
    await fake.create(cm('x', { v: '1' }));
    const { inf, events } = harness({ transform });
    await until(() => inf.hasSynced() && fake.watchCount === 1);
    // Changed while the informer cannot see it, then a 410 forces a re-list.
    fake.setWatchesSilent(true);
    await fake.patch(CM, { namespace: 'a', name: 'x' }, { type: 'merge', body: { data: { fail: 'yes' } } });
    fake.compact();
    fake.setWatchesSilent(false);
    fake.closeWatches();
    await stepUntil(clock, () => inf.stats.lists === 2, 60_000, 're-list');
    expect(inf.store.get('a/x')!.data).toEqual({ v: '1' });
    expect(events).toEqual(['add x {"v":"1"}']);
    expect(inf.stats.transformErrors).toBe(1);
  });
});

describe('Store with a throwing index function', () => {
  test('set stores the object without that index, updates the others, and reports', () => {
    const failures: string[] = [];
    const s = new Store<KubernetesObject>(
      { color, name: (o) => [o.metadata!.name!] },
      {
        onIndexError: (err) => void failures.push(`${err.index} ${err.key} ${(err.cause as Error).message}`),
      },
    );
    s.set('a/x', cm('x', { color: 'red' }));
    s.set('a/x', cm('x', { color: 'bad' }));
    expect(s.get('a/x')!.data).toEqual({ color: 'bad' });
    expect(s.indexKeys('color', 'red')).toEqual([]);
    expect(s.indexKeys('name', 'x')).toEqual(['a/x']);
    expect(failures).toEqual(['color a/x cannot index x']);
  });

  test('without onIndexError, set throws IndexFunctionError once the store is consistent', () => {
    const s = new Store<KubernetesObject>({ color, name: (o) => [o.metadata!.name!] });
    s.set('a/x', cm('x', { color: 'red' }));
    expect(() => s.set('a/x', cm('x', { color: 'bad' }))).toThrow(IndexFunctionError);
    expect(s.get('a/x')!.data).toEqual({ color: 'bad' });
    expect(s.indexKeys('color', 'red')).toEqual([]);
    expect(s.indexKeys('name', 'x')).toEqual(['a/x']);
  });
});
