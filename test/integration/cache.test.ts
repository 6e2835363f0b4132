// Informers against a real kube-apiserver: event order, a throwing handler, a silent watch,
// 410 Gone after etcd compaction, and a kube-apiserver restart with changes made while the
// informer could not see the server. ConfigMaps have the watch cache turned off
// (--watch-cache-sizes=configmaps#0) so that their watches are served by etcd and compaction
// yields a genuine 410; Secrets keep the watch cache (and its bookmarks).
import type { KubeConfig } from '@kubernetes/client-node';
import {
  InformerCache,
  KubeClient,
  NoInformerError,
  SharedInformer,
  mergePatch,
  type AddInfo,
  type DeleteInfo,
  type GVK,
  type KubernetesObject,
  type UpdateInfo,
} from '../../lib/index.js';
import { startControlPlane, waitFor, type ControlPlane } from '../../lib/testing/index.js';
import { LoopbackProxy, compactEtcd, restartApiServer, type RestartedApiServer } from './cache-disruption.js';

const CM: GVK = { group: '', version: 'v1', kind: 'ConfigMap' };
const SECRET: GVK = { group: '', version: 'v1', kind: 'Secret' };

let cp: ControlPlane;
let client: KubeClient;
let restarted: RestartedApiServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  cp = await startControlPlane({ apiServerFlags: ['--watch-cache-sizes=configmaps#0'] });
  client = new KubeClient(cp.kubeConfig, { qps: 200, burst: 200 });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  client?.close();
  await restarted?.stop();
  await cp?.stop();
});

async function namespace(name: string): Promise<string> {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const obj = (gvk: GVK, ns: string, name: string, value: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: gvk.kind,
  metadata: { namespace: ns, name },
  ...(gvk.kind === 'Secret' ? { stringData: { v: value } } : { data: { v: value } }),
});

// Secrets carry data base64-encoded; ConfigMaps as plain strings.
const valueOf = (o: KubernetesObject): string => {
  const v = (o.data as Record<string, string> | undefined)?.v;
  if (v === undefined) return '';
  return o.kind === 'Secret' ? Buffer.from(v, 'base64').toString() : v;
};

interface Recorder {
  events: string[];
  deletes: Map<string, DeleteInfo>;
}

/** Starts an informer with a recording handler, through `kc` (default: straight to the server). */
async function informer(
  gvk: GVK,
  ns: string,
  opts: { kc?: KubeConfig; idleMs?: number } = {},
): Promise<{ inf: SharedInformer; rec: Recorder; ac: AbortController }> {
  const c = new KubeClient(opts.kc ?? cp.kubeConfig, { qps: 200, burst: 200, retry: { maxRetries: 0 } });
  const inf = new SharedInformer(c, {
    gvk,
    namespaces: [ns],
    isNamespaced: () => c.isNamespaced(gvk),
    reflector: { watchIdleTimeoutMs: opts.idleMs ?? 180_000, backoff: { initialMs: 200, maxMs: 2000 } },
  });
  const rec: Recorder = { events: [], deletes: new Map() };
  const name = (o: KubernetesObject) => o.metadata!.name!;
  inf.addEventHandler({
    onAdd: (o: KubernetesObject, i: AddInfo) =>
      void rec.events.push(`add ${name(o)}=${valueOf(o)}${i.isInInitialList ? ' (initial)' : ''}`),
    onUpdate: (a: KubernetesObject, b: KubernetesObject, i: UpdateInfo) => {
      if (!i.isResync) rec.events.push(`update ${name(b)} ${valueOf(a)}->${valueOf(b)}`);
    },
    onDelete: (o: KubernetesObject, i: DeleteInfo) => {
      rec.events.push(`delete ${name(o)}=${valueOf(o)}`);
      rec.deletes.set(name(o), i);
    },
  });
  const ac = new AbortController();
  const run = inf.run(ac.signal);
  cleanups.push(async () => {
    ac.abort();
    await run;
    c.close();
  });
  await waitFor(() => inf.hasSynced(), { description: 'informer sync' });
  return { inf, rec, ac };
}

/** Waits until the informer's store holds exactly what the server has, resourceVersions included. */
async function converged(inf: SharedInformer, gvk: GVK, ns: string): Promise<void> {
  await waitFor(
    async () => {
      const server = await client.list(gvk, { namespace: ns });
      const want = server.items.map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();
      const have = inf.store
        .list()
        .map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`)
        .sort();
      return JSON.stringify(want) === JSON.stringify(have);
    },
    { timeoutMs: 60_000, description: 'cache to converge with the server' },
  );
}

async function churn(gvk: GVK, ns: string): Promise<void> {
  await client.patch(
    gvk,
    { namespace: ns, name: 'keep' },
    mergePatch(gvk.kind === 'Secret' ? { stringData: { v: '2' } } : { data: { v: '2' } }),
  );
  await client.delete(gvk, { namespace: ns, name: 'gone' });
  await client.create(obj(gvk, ns, 'new', '1'));
}

test('create, update and delete arrive in order, with old and new objects', async () => {
  const ns = await namespace('events');
  await client.create(obj(SECRET, ns, 'pre', '0'));
  const { rec } = await informer(SECRET, ns);
  await client.create(obj(SECRET, ns, 's', '1'));
  for (const v of ['2', '3'])
    await client.patch(SECRET, { namespace: ns, name: 's' }, mergePatch({ stringData: { v } }));
  await client.delete(SECRET, { namespace: ns, name: 's' });
  await waitFor(() => rec.events.length >= 5, { description: 'events' });
  expect(rec.events).toEqual([
    'add pre=0 (initial)',
    'add s=1',
    'update s 1->2',
    'update s 2->3',
    'delete s=3',
  ]);
});

test('a throwing handler is logged and counted, and the informer goes on', async () => {
  const ns = await namespace('throwing');
  const { inf, rec } = await informer(SECRET, ns);
  inf.addEventHandler({
    onAdd: () => {
      throw new Error('handler bug');
    },
    onUpdate: () => Promise.reject(new Error('async handler bug')),
  });
  await client.create(obj(SECRET, ns, 'a', '1'));
  await client.patch(SECRET, { namespace: ns, name: 'a' }, mergePatch({ stringData: { v: '2' } }));
  await client.create(obj(SECRET, ns, 'b', '1'));
  await waitFor(() => rec.events.length === 3 && inf.stats.handlerErrors === 3, {
    description: 'events and errors',
  });
  expect(rec.events).toEqual(['add a=1', 'update a 1->2', 'add b=1']);
  expect(inf.stats.watchRestarts.error).toBe(0);
});

test('~90 KB of non-ASCII data created after the informer started arrives intact (watch, no re-list)', async () => {
  const ns = await namespace('utf8');
  const { inf } = await informer(CM, ns);
  // 2-, 3- and 4-byte characters (and a little ASCII), about 90 KB encoded: the watch event
  // reaches the client in many chunks, and most chunk boundaries fall inside a character.
  const unit = 'é漢😀-ü語🎉 ';
  const value = unit.repeat(Math.ceil(90_000 / Buffer.byteLength(unit)));
  expect(Buffer.byteLength(value)).toBeGreaterThanOrEqual(90_000);
  await client.create(obj(CM, ns, 'big', value));
  await waitFor(() => inf.store.has(`${ns}/big`), { description: 'the ConfigMap in the cache' });
  const cached = valueOf(inf.store.get(`${ns}/big`)!);
  // Compared by length and equality rather than printed: a diff of 90 KB helps no one.
  expect({ length: cached.length, intact: cached === value, replacement: cached.includes('\uFFFD') }).toEqual(
    {
      length: value.length,
      intact: true,
      replacement: false,
    },
  );
  // It came through the watch: one list (the initial one) and no watch restart healed it.
  expect(inf.stats.lists).toBe(1);
  expect(inf.stats.watchRestarts).toEqual({ closed: 0, gone: 0, idle: 0, error: 0 });
});

test('a watch that goes silent is replaced; no final state is missed', async () => {
  const ns = await namespace('silent');
  for (const n of ['keep', 'gone']) await client.create(obj(SECRET, ns, n, '1'));
  const proxy = await LoopbackProxy.start(cp.server);
  cleanups.push(() => proxy.close());
  const { inf, rec } = await informer(SECRET, ns, { kc: proxy.kubeConfigFor(cp.kubeConfig), idleMs: 3000 });
  await waitFor(() => proxy.connections > 0, { description: 'watch connection' });
  proxy.setMode('stall');
  await churn(SECRET, ns);
  await converged(inf, SECRET, ns);
  expect(inf.stats.watchRestarts.idle).toBeGreaterThanOrEqual(1);
  expect(rec.events.slice(2)).toEqual(['update keep 1->2', 'delete gone=1', 'add new=1']);
  expect(rec.deletes.get('gone')?.finalStateUnknown).toBe(false);
});

test('410 Gone after etcd compaction: re-list, deletes delivered with the last known state', async () => {
  const ns = await namespace('compaction');
  for (const n of ['keep', 'gone']) await client.create(obj(CM, ns, n, '1'));
  const proxy = await LoopbackProxy.start(cp.server);
  cleanups.push(() => proxy.close());
  const { inf, rec } = await informer(CM, ns, { kc: proxy.kubeConfigFor(cp.kubeConfig) });
  proxy.setMode('refuse');
  await churn(CM, ns);
  // More writes elsewhere so the compaction revision is well past the informer's.
  for (let i = 0; i < 5; i++) await client.create(obj(CM, 'default', `filler-${i}`, '1'));
  await compactEtcd(cp);
  proxy.setMode('forward');
  await converged(inf, CM, ns);
  expect(inf.stats.watchRestarts.gone).toBeGreaterThanOrEqual(1);
  expect(inf.stats.lists).toBeGreaterThanOrEqual(2);
  expect(rec.events.slice(2).sort()).toEqual(['add new=1', 'delete gone=1', 'update keep 1->2']);
  expect(rec.deletes.get('gone')?.finalStateUnknown).toBe(true);
});

test('the cache reader answers from informers and refuses what no informer serves', async () => {
  const ns = await namespace('reader');
  await client.create(obj(SECRET, ns, 'r1', '1'));
  const NAMESPACE: GVK = { group: '', version: 'v1', kind: 'Namespace' };
  const cache = new InformerCache({ client, namespaces: [ns] });
  cache.informerFor(SECRET);
  cache.informerFor(NAMESPACE);
  const ac = new AbortController();
  const run = cache.start(ac.signal);
  cleanups.push(async () => {
    ac.abort();
    await run;
  });
  expect(await cache.waitForCacheSync()).toBe(true);
  expect(valueOf(await cache.get(SECRET, { namespace: ns, name: 'r1' }))).toBe('1');
  // Namespace is cluster-scoped (found through the client's REST mapper): the namespace
  // restriction does not apply to it.
  expect((await cache.get(NAMESPACE, { name: ns })).metadata?.name).toBe(ns);
  await expect(cache.get(CM, { namespace: ns, name: 'x' })).rejects.toThrow(NoInformerError);
  await expect(cache.list(SECRET, { namespace: 'default' })).rejects.toThrow(NoInformerError);
});

test('kube-apiserver restart: informers recover and deletes made during the outage are delivered', async () => {
  const ns = await namespace('restart');
  for (const n of ['keep', 'gone']) await client.create(obj(SECRET, ns, n, '1'));
  const proxy = await LoopbackProxy.start(cp.server);
  cleanups.push(() => proxy.close());
  const { inf, rec } = await informer(SECRET, ns, { kc: proxy.kubeConfigFor(cp.kubeConfig) });
  restarted = await restartApiServer(cp, async () => {
    // Keep the informer away from the server until the changes below are made.
    proxy.setMode('refuse');
  });
  client.close();
  client = new KubeClient(cp.kubeConfig, { qps: 200, burst: 200 });
  await churn(SECRET, ns);
  proxy.setMode('forward');
  await converged(inf, SECRET, ns);
  expect(inf.stats.watchRestarts.error).toBeGreaterThanOrEqual(1);
  expect(rec.events.slice(2).sort()).toEqual(['add new=1', 'delete gone=1', 'update keep 1->2']);
  expect(rec.deletes.has('gone')).toBe(true);
});
