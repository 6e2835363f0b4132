/**
 * Memory at scale: BENCH_MEMORY_SESSIONS (default 10,000) Sessions run to Succeeded through
 * each operator at --kube-api-qps 500, then, with every Session and Job cached: the operator's
 * peak and final RSS, its RSS growth per cached object, and the heap each cached Session and
 * Job takes in a cache set up as the operator's (measured in this process for Steward, by
 * bench/peer's `cache-heap` for controller-runtime, against the same API server).
 */
import { execFileSync } from 'node:child_process';
import { sessionInformers } from '../controllers/session/index.js';
import { KubeClient, SharedInformer, type KubernetesObject } from '../lib/index.js';
import { compareRow, type RunFigures, sessionRun } from './sessions.js';
import { gc, peerBinary, type Table } from './util.js';

const N = Number(process.env.BENCH_MEMORY_SESSIONS ?? 10_000);
const NS = 'bench';
const FLAGS = ['--kube-api-qps', '500', '--kube-api-burst', '750'];

interface HeapFigures {
  sessionBytes: number;
  jobBytes: number;
}

/** Heap per object of an informer configured as the Session operator's. */
async function stewardHeap(client: KubeClient): Promise<HeapFigures> {
  const perObject = async (which: 'session' | 'job') => {
    const { gvk, request } = sessionInformers()[which];
    gc();
    const before = process.memoryUsage().heapUsed;
    const ac = new AbortController();
    let inf: SharedInformer<KubernetesObject> | undefined = new SharedInformer(client, {
      gvk,
      ...request,
      namespaces: [NS],
    });
    const running = inf.run(ac.signal);
    await inf.waitForSync();
    gc();
    const bytes = (process.memoryUsage().heapUsed - before) / inf.store.size;
    ac.abort();
    await running;
    inf = undefined;
    return bytes;
  };
  return { sessionBytes: await perObject('session'), jobBytes: await perObject('job') };
}

function peerHeap(kubeconfigPath: string): HeapFigures {
  const out = execFileSync(
    peerBinary(),
    ['cache-heap', '--kubeconfig', kubeconfigPath, '--namespace', NS, '--kube-api-qps', '-1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const r = JSON.parse(out) as { sessionBytesPerObject: number; jobBytesPerObject: number };
  return { sessionBytes: r.sessionBytesPerObject, jobBytes: r.jobBytesPerObject };
}

export async function run(): Promise<Table[]> {
  const figures: RunFigures[] = [];
  const heaps: HeapFigures[] = [];
  for (const kind of ['steward', 'peer'] as const) {
    figures.push(
      await sessionRun({ column: kind, kind, args: FLAGS }, N, async ({ kubeconfigPath }) => {
        const { KubeConfig } = await import('@kubernetes/client-node');
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        const client = new KubeClient(kc, { qps: -1 });
        try {
          heaps.push(kind === 'steward' ? await stewardHeap(client) : peerHeap(kubeconfigPath));
        } finally {
          client.close();
        }
      }),
    );
  }
  const [s, p] = figures as [RunFigures, RunFigures];
  const perObject = (f: RunFigures) => ((f.rssMiB - f.readyRssMiB) * 2 ** 20) / (2 * N) / 1024;
  return [
    {
      title: `Memory: ${N} Sessions and ${N} Jobs cached, --kube-api-qps 500`,
      columns: ['Steward', 'peer'],
      ratio: { label: 'Steward ÷ peer', of: [0, 1] },
      rows: [
        compareRow('throughput', 'Sessions/s', [s.sessionsPerS, p.sessionsPerS], 'higher'),
        compareRow('operator RSS when ready (empty caches)', 'MiB', [s.readyRssMiB, p.readyRssMiB], 'lower'),
        compareRow('operator peak RSS', 'MiB', [s.peakRssMiB, p.peakRssMiB], 'lower'),
        compareRow('operator RSS at the end', 'MiB', [s.rssMiB, p.rssMiB], 'lower'),
        compareRow(
          'RSS growth per cached object (end − ready)',
          'KiB',
          [perObject(s), perObject(p)],
          'lower',
        ),
        compareRow(
          'heap per cached Session',
          'KiB',
          [heaps[0]!.sessionBytes / 1024, heaps[1]!.sessionBytes / 1024],
          'lower',
        ),
        compareRow(
          'heap per cached Job',
          'KiB',
          [heaps[0]!.jobBytes / 1024, heaps[1]!.jobBytes / 1024],
          'lower',
        ),
        compareRow('machine load average (1 min) at the start', '', [s.load, p.load], 'lower'),
      ],
      notes: [
        "Heap per cached object: a cache with the operator's options (Sessions; Steward-managed Jobs, " +
          'with its transforms) synced over the same objects, in a process of its own kind (Node for ' +
          'Steward, Go for the peer); retained heap after a full collection, divided by the objects.',
      ],
    },
  ];
}
