/**
 * The Session operator under load. An apiserver-only control plane; the operator as its own
 * process (dist/cmd/manager.js, --max-concurrent-reconciles 10); this process plays the Job
 * controller (each Job is marked Complete shortly after it appears) and measures:
 * Sessions/s, API requests per Session (the operator's rest_client_requests_total), p50/p99
 * creation → Succeeded, the operator's peak RSS and CPU seconds, and — in the same run — the
 * API server's raw capacity for the same kind of writes (creates + status patches per second
 * from a tight client), so the operator's throughput shows as a share of what the server allows.
 *
 * BENCH_SESSIONS (default 2000) sets N; `make bench BENCH_ARGS="sessions"` runs only this.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, type KubernetesObject } from '../lib/index.js';
import { finishJob, installCRDs, startControlPlane, waitFor } from '../lib/testing/index.js';
import type { BenchResult } from './util.js';

const N = Number(process.env.BENCH_SESSIONS ?? 2000);
// The operator's client-side rate limit; its own defaults (20 QPS, burst 30) unless set.
const QPS = process.env.BENCH_QPS;
const ROOT = join(import.meta.dirname, '..', '..');
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const NS = 'bench';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Creates + status patches per second that the API server takes from a tight client. */
async function rawCapacity(client: KubeClient, seconds: number, prefix: string): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let ops = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (Date.now() < deadline) {
        const name = `${prefix}-${i++}`;
        await client.create({
          apiVersion: 'steward.dev/v1alpha1',
          kind: 'Session',
          metadata: { namespace: 'raw', name },
          spec: { template: { image: 'x' } },
        });
        await client.patchStatus(
          SESSION,
          { namespace: 'raw', name },
          { type: 'merge', body: { status: { phase: 'Pending', reason: 'Raw' } } },
        );
        ops += 2;
      }
    }),
  );
  return ops / seconds;
}

export async function run(): Promise<BenchResult[]> {
  const cp = await startControlPlane();
  const client = new KubeClient(cp.kubeConfig, { qps: 5000, burst: 5000 });
  let operator: ReturnType<typeof spawn> | undefined;
  const stopWatches = new AbortController();
  try {
    await installCRDs(client, [
      join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
      join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
    ]);
    for (const ns of [NS, 'raw'])
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await rawCapacity(client, 2, 'warmup');
    const capacity = await rawCapacity(client, 5, 'raw');

    operator = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'cmd', 'manager.js'),
        '--kubeconfig',
        cp.kubeconfigPath,
        '--namespace',
        NS,
        '--max-concurrent-reconciles',
        '10',
        '--metrics-bind-address',
        '127.0.0.1:18080',
        '--health-probe-bind-address',
        '127.0.0.1:18081',
        '--runner-image',
        'runner:bench',
        '--log-level',
        'warn',
        ...(QPS ? ['--kube-api-qps', QPS, '--kube-api-burst', String(Math.ceil(Number(QPS) * 1.5))] : []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const pid = operator.pid!;
    await waitFor(async () => (await fetch('http://127.0.0.1:18081/readyz')).ok, {
      description: 'operator ready',
    });

    // Play the Job controller: complete each Job as it appears.
    const completing: Promise<unknown>[] = [];
    void (async () => {
      for await (const ev of client.watch(JOB, {
        namespace: NS,
        signal: stopWatches.signal,
        resourceVersion: '0',
      })) {
        if (ev.type === 'ADDED')
          completing.push(finishJob(client, { namespace: NS, name: ev.object.metadata!.name! }, 'Complete'));
      }
    })().catch(() => {});
    const created = new Map<string, number>();
    const done = new Map<string, number>();
    void (async () => {
      for await (const ev of client.watch<KubernetesObject & { status?: { phase?: string } }>(SESSION, {
        namespace: NS,
        signal: stopWatches.signal,
        resourceVersion: '0',
      })) {
        const name = ev.object.metadata?.name;
        if (name && ev.object.status?.phase === 'Succeeded' && !done.has(name))
          done.set(name, performance.now());
      }
    })().catch(() => {});

    const names = Array.from({ length: N }, (_, i) => `s-${i}`);
    const t0 = performance.now();
    await pool(names, 32, async (name) => {
      created.set(name, performance.now());
      await client.create({
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        metadata: { namespace: NS, name },
        spec: { template: { command: ['true'] } },
      });
    });
    await waitFor(() => done.size >= N, {
      description: `${N} Sessions Succeeded`,
      timeoutMs: 30 * 60_000,
      intervalMs: 100,
    });
    const elapsedS = (performance.now() - t0) / 1000;

    const metrics = await (await fetch('http://127.0.0.1:18080/metrics')).text();
    let requests = 0;
    for (const m of metrics.matchAll(/^rest_client_requests_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm))
      requests += Number(m[1]);
    const cpu = Number(/^process_cpu_seconds_total (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    const peakRssMiB =
      Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const latencies = names.map((n) => (done.get(n)! - created.get(n)!) / 1000).sort((a, b) => a - b);
    const rate = N / elapsedS;
    console.log(
      `  sessions: ${N} run to Succeeded in ${elapsedS.toFixed(1)} s; Jobs completed by this process`,
    );
    return [
      {
        name: `sessions: throughput (${N} Sessions, 10 workers, ${QPS ?? 20} QPS)`,
        value: rate,
        unit: 'Sessions/s',
      },
      { name: 'sessions: operator API requests per Session', value: requests / N, unit: 'requests' },
      { name: 'sessions: creation → Succeeded p50', value: quantile(latencies, 0.5), unit: 's' },
      { name: 'sessions: creation → Succeeded p99', value: quantile(latencies, 0.99), unit: 's' },
      { name: 'sessions: operator peak RSS', value: peakRssMiB, unit: 'MiB' },
      { name: 'sessions: operator CPU', value: cpu, unit: 's' },
      {
        name: 'sessions: API server raw capacity (creates + status patches)',
        value: capacity,
        unit: 'writes/s',
      },
      {
        name: 'sessions: operator API requests/s as a share of raw capacity',
        // The operator's requests are nearly all writes (reads come from its cache): compare
        // its request rate with the write rate the server took from a tight client.
        value: (100 * (requests / elapsedS)) / capacity,
        unit: '%',
      },
    ];
  } finally {
    stopWatches.abort();
    operator?.kill('SIGTERM');
    await new Promise((r) => (operator ? operator.once('exit', r) : r(undefined)));
    client.close();
    await cp.stop();
  }
}
