import { jest } from '@jest/globals';
import {
  CacheNotStartedError,
  NoInformerError,
  UnsupportedSelectorError,
} from '../../../lib/cache/errors.js';
import { InformerCache } from '../../../lib/cache/informer-cache.js';
import { NotFoundError } from '../../../lib/client/errors.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { until } from './helpers.js';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const NS = { group: '', version: 'v1', kind: 'Namespace' };
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const pod = (
  ns: string,
  name: string,
  node: string,
  labels: Record<string, string> = {},
): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node },
});

let ac: AbortController;
let fake: FakeClient;
let cache: InformerCache;
let started: Promise<void> | undefined;

beforeEach(async () => {
  ac = new AbortController();
  const clock = new FakeClock(0);
  fake = new FakeClient({ clock });
  for (const p of [
    pod('a', 'p1', 'n1', { app: 'web' }),
    pod('a', 'p2', 'n2'),
    pod('b', 'p3', 'n1', { app: 'web' }),
  ]) {
    await fake.create(p);
  }
  await fake.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
  cache = new InformerCache({ client: fake, clock, random: () => 0 });
  started = undefined;
});

afterEach(async () => {
  ac.abort();
  await started;
});

function start(): void {
  started = cache.start(ac.signal);
}

describe('InformerCache', () => {
  test('one informer per GVK + selector + namespace set', () => {
    const a = cache.informerFor(POD);
    expect(cache.informerFor(POD)).toBe(a);
    expect(cache.informerFor(POD, { labelSelector: { app: 'web' } })).not.toBe(a);
    expect(cache.informerFor(POD, { namespaces: ['b', 'a'] })).toBe(
      cache.informerFor(POD, { namespaces: ['a', 'b'] }),
    );
    expect(cache.informers()).toHaveLength(3);
  });

  test('get and list read the cache, filtered by namespace and labels', async () => {
    cache.informerFor(POD);
    start();
    expect(await cache.waitForCacheSync()).toBe(true);
    expect((await cache.get(POD, { namespace: 'a', name: 'p1' })).metadata?.name).toBe('p1');
    await expect(cache.get(POD, { namespace: 'a', name: 'nope' })).rejects.toThrow(NotFoundError);
    const names = async (opts: Parameters<InformerCache['list']>[1]) =>
      (await cache.list(POD, opts)).items.map((p) => p.metadata?.name).sort();
    expect(await names({})).toEqual(['p1', 'p2', 'p3']);
    expect(await names({ namespace: 'a' })).toEqual(['p1', 'p2']);
    expect(await names({ labelSelector: 'app=web' })).toEqual(['p1', 'p3']);
    expect(await names({ namespace: 'a', labelSelector: { app: 'web' } })).toEqual(['p1']);
    expect(await names({ fieldSelector: { 'metadata.name': 'p2' } })).toEqual(['p2']);
  });

  test('field indexes serve field selectors, namespaced or not; unindexed fields are refused', async () => {
    cache.indexField<KubernetesObject>(POD, 'spec.nodeName', (p) => [
      (p.spec as { nodeName: string }).nodeName,
    ]);
    cache.informerFor(POD);
    start();
    await cache.waitForCacheSync();
    const names = async (opts: Parameters<InformerCache['list']>[1]) =>
      (await cache.list(POD, opts)).items.map((p) => p.metadata?.name).sort();
    expect(await names({ fieldSelector: { 'spec.nodeName': 'n1' } })).toEqual(['p1', 'p3']);
    expect(await names({ namespace: 'b', fieldSelector: 'spec.nodeName=n1' })).toEqual(['p3']);
    await expect(cache.list(POD, { fieldSelector: { 'status.phase': 'x' } })).rejects.toThrow(
      UnsupportedSelectorError,
    );
  });

  test('a label index answers label equalities by lookup, with the same answers as a scan', async () => {
    const inf = cache.informerFor(POD);
    cache.indexLabel(POD, 'app');
    expect(() => cache.indexLabel(POD, 'app')).toThrow(/already exists/);
    start();
    await cache.waitForCacheSync();
    const scans = jest.spyOn(inf.store, 'byIndex');
    const names = async (opts: Parameters<InformerCache['list']>[1]) =>
      (await cache.list(POD, opts)).items.map((p) => p.metadata?.name).sort();
    expect(await names({ labelSelector: { app: 'web' } })).toEqual(['p1', 'p3']);
    expect(await names({ namespace: 'a', labelSelector: 'app=web' })).toEqual(['p1']);
    expect(await names({ namespace: 'b', labelSelector: 'app in (web)' })).toEqual(['p3']);
    // Every term still applies to what the index found.
    expect(await names({ labelSelector: 'app=web,tier=db' })).toEqual([]);
    expect(await names({ labelSelector: { app: 'db' } })).toEqual([]);
    // Each of those was one index lookup, never the namespace index (a scan of the namespace).
    expect(scans.mock.calls.map(([index]) => index)).toEqual(Array(5).fill('label:app'));
    // A relabelled object moves in the index.
    await fake.patch(
      POD,
      { namespace: 'a', name: 'p1' },
      { type: 'merge', body: { metadata: { labels: { app: 'db' } } } },
    );
    await until(() => inf.store.get('a/p1')?.metadata?.labels?.app === 'db');
    expect(await names({ labelSelector: { app: 'db' } })).toEqual(['p1']);
    expect(await names({ labelSelector: { app: 'web' } })).toEqual(['p3']);
    // Selectors without an equality on an indexed label scan as before.
    expect(await names({ namespace: 'a', labelSelector: '!app' })).toEqual(['p2']);
  });

  test('reads of kinds or namespaces no informer serves are errors, not new watches', async () => {
    cache.informerFor(POD, { namespaces: ['a'] });
    await expect(cache.get(POD, { namespace: 'a', name: 'p1' })).rejects.toThrow(CacheNotStartedError);
    start();
    await cache.waitForCacheSync();
    await expect(cache.get(CM, { namespace: 'a', name: 'x' })).rejects.toThrow(NoInformerError);
    await expect(cache.list(POD, { namespace: 'b' })).rejects.toThrow(/in namespace b/);
    // Without a namespace, a read is answered from the namespaces the informer watches.
    expect((await cache.list(POD)).items).toHaveLength(2);
    expect((await cache.list(POD, { namespace: 'a' })).items).toHaveLength(2);
    expect(fake.watchCount).toBe(1);
  });

  test('an informer added after start runs at once; cluster-scoped kinds ignore namespaces', async () => {
    start();
    const inf = cache.informerFor(NS, { namespaces: ['x'] });
    await inf.waitForSync();
    expect(inf.clusterScoped).toBe(true);
    expect((await cache.get(NS, { name: 'a' })).metadata?.name).toBe('a');
    await until(() => fake.watchCount === 1);
  });

  test('reads wait for the initial sync', async () => {
    cache.informerFor(POD);
    start();
    const list = await cache.list(POD);
    expect(list.items).toHaveLength(3);
    expect(list.metadata.resourceVersion).toBe(fake.resourceVersion);
  });
});
