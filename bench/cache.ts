/**
 * Informer cost at scale: 10,000 ConfigMaps in a real control plane, then the time to an initial
 * sync and the retained heap per cached object, with the default transform (managedFields
 * dropped) and without any. Run through `make bench` (node --expose-gc).
 */
import { KubeClient, SharedInformer, type KubernetesObject } from '../lib/index.js';
import { startControlPlane } from '../lib/testing/index.js';
import { gc, type Table } from './util.js';

const COUNT = Number(process.env.BENCH_CACHE_OBJECTS ?? 10_000);
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const NS = 'bench';

async function populate(client: KubeClient): Promise<void> {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  let next = 0;
  // Server-side apply, as controllers write today: every object gets a managedFields entry.
  const worker = async (): Promise<void> => {
    while (next < COUNT) {
      const i = next++;
      await client.apply(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${i}`, namespace: NS, labels: { app: 'bench', shard: String(i % 16) } },
          data: { index: String(i), payload: 'x'.repeat(200) },
        },
        { fieldManager: 'steward-bench' },
      );
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

async function measure(
  client: KubeClient,
  transform: boolean,
): Promise<{ syncMs: number; bytesPerObject: number; size: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  const ac = new AbortController();
  let inf: SharedInformer<KubernetesObject> | undefined = new SharedInformer(client, {
    gvk: CM,
    namespaces: [NS],
    transform: transform ? undefined : false,
  });
  const started = performance.now();
  const run = inf.run(ac.signal);
  await inf.waitForSync();
  const syncMs = performance.now() - started;
  gc();
  const after = process.memoryUsage().heapUsed;
  const size = inf.store.size;
  ac.abort();
  await run;
  inf = undefined;
  return { syncMs, bytesPerObject: (after - before) / size, size };
}

/** Returns the figures for bench/run.ts's table; prints only how the data set was made. */
export async function run(): Promise<Table[]> {
  const table: Table = {
    title: `Informer cache: ${COUNT} ConfigMaps in a real kube-apiserver`,
    columns: ['Steward'],
    rows: [],
  };
  const cp = await startControlPlane();
  const client = new KubeClient(cp.kubeConfig, { qps: -1 });
  try {
    const t0 = performance.now();
    await populate(client);
    console.error(
      `  cache: created ${COUNT} ConfigMaps (server-side apply) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    // Warm-up, so that connection set-up and JIT do not count against the first variant.
    await measure(client, true);
    for (const transform of [true, false]) {
      const m = await measure(client, transform);
      const label = transform ? 'default transform' : 'no transform';
      table.rows.push(
        { name: `initial sync, ${label}`, unit: 'ms', values: [m.syncMs] },
        { name: `heap per cached ConfigMap, ${label}`, unit: 'KiB', values: [m.bytesPerObject / 1024] },
      );
    }
    return [table];
  } finally {
    client.close();
    await cp.stop();
  }
}
