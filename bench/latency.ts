/**
 * Event → reconcile start at a steady event rate, Steward beside the controller-runtime peer.
 *
 * Each side runs as its own process (dist/bench/latency-target.js; bench/peer's `latency`) on a
 * fresh apiserver-only control plane: a controller over 1,000 ConfigMaps with 10 workers. The
 * headline is from the API server's acknowledgement of a write (seen here, in the writer) to
 * the measured process entering Reconcile for it, joined by a sequence number the reconciler
 * reads from its cache; the handler → start wait inside the process is printed too. This
 * process updates the
 * ConfigMaps round-robin at BENCH_EVENT_RATE per second (default 500) for BENCH_EVENT_SECONDS
 * (default 10), so each key changes every 2 s and the queue never merges events.
 */
import { KubeClient } from '../lib/index.js';
import { startControlPlane, waitFor } from '../lib/testing/index.js';
import { OperatorProcess, type OperatorKind } from './operator.js';
import { loadAverage, quantile, type Row, type Table } from './util.js';

const RATE = Number(process.env.BENCH_EVENT_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_EVENT_SECONDS ?? 10);
const OBJECTS = 1000;
const NS = 'bench';
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const LABELS = { bench: 'latency' };

interface LatencyFigures {
  /** Informer handler → reconcile start, in the measured process. */
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Write acknowledged by the API server (in this process) → reconcile start. */
  ackCount: number;
  ackP50: number;
  ackP99: number;
  ackMax: number;
  rate: number;
  load: number;
}

async function latencyRun(kind: OperatorKind): Promise<LatencyFigures> {
  const load = loadAverage();
  const cp = await startControlPlane();
  const client = new KubeClient(cp.kubeConfig, { qps: -1 });
  let op: OperatorProcess | undefined;
  try {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < OBJECTS) {
          const name = `lat-${next++}`;
          await client.create({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { namespace: NS, name, labels: LABELS },
            data: { seq: '0' },
          });
        }
      }),
    );
    op = await OperatorProcess.start({
      kind,
      target: 'latency',
      kubeconfigPath: cp.kubeconfigPath,
      namespace: NS,
      args: ['--max-concurrent-reconciles', '10'],
    });
    // The initial list's reconciles are not measured; let them pass first.
    await new Promise((r) => setTimeout(r, 2000));

    const inflight = new Set<Promise<unknown>>();
    let issued = 0;
    let written = 0;
    // seq → wall-clock ms at which the API server's response to that write arrived.
    const acked = new Map<number, number>();
    const t0 = performance.now();
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= SECONDS) break;
      const due = Math.floor(elapsed * RATE);
      while (issued < due && inflight.size < 256) {
        const i = ++issued;
        const p: Promise<unknown> = client
          .patch(
            CM,
            { namespace: NS, name: `lat-${i % OBJECTS}` },
            { type: 'merge', body: { data: { seq: String(i) } } },
          )
          .then(() => {
            acked.set(i, performance.timeOrigin + performance.now());
            written++;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
    const rate = written / ((performance.now() - t0) / 1000);
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: NS, name: 'lat-end', labels: LABELS },
    });
    const proc = op;
    await waitFor(() => proc.stdout.includes('\n'), {
      description: `${kind} latency summary`,
      timeoutMs: 120_000,
    });
    const summary = JSON.parse(proc.stdout.trim().split('\n').pop()!) as Pick<
      LatencyFigures,
      'count' | 'p50' | 'p99' | 'max'
    > & { starts: Array<[number, number]> };
    const fromAck = summary.starts
      .filter(([seq]) => acked.has(seq))
      .map(([seq, at]) => at - acked.get(seq)!)
      .sort((a, b) => a - b);
    console.error(
      `  latency: ${kind}: ${written} updates at ${rate.toFixed(0)}/s, ${summary.count} reconciles measured, load ${load.toFixed(1)}`,
    );
    return {
      count: summary.count,
      p50: summary.p50,
      p99: summary.p99,
      max: summary.max,
      ackCount: fromAck.length,
      ackP50: quantile(fromAck, 0.5),
      ackP99: quantile(fromAck, 0.99),
      ackMax: fromAck.at(-1) ?? NaN,
      rate,
      load,
    };
  } finally {
    await op?.stop();
    client.close();
    await cp.stop();
  }
}

export async function run(): Promise<Table[]> {
  const s = await latencyRun('steward');
  const p = await latencyRun('peer');
  const row = (name: string, unit: string, k: keyof LatencyFigures, goal?: Row['goal']): Row => ({
    name,
    unit,
    values: [s[k], p[k]],
    goal,
  });
  return [
    {
      title: `Event → reconcile start at ${RATE} events/s (${OBJECTS} ConfigMaps, 10 workers, ${SECONDS} s)`,
      columns: ['Steward', 'peer'],
      ratio: { label: 'Steward ÷ peer', of: [0, 1] },
      rows: [
        row('events written (achieved rate)', 'events/s', 'rate'),
        row('reconciles measured', '', 'ackCount'),
        row('write acknowledged → reconcile start p50', 'ms', 'ackP50'),
        row('write acknowledged → reconcile start p99', 'ms', 'ackP99', {
          text: '≤ 20 ms',
          met: s.ackP99 <= 20,
        }),
        row('write acknowledged → reconcile start max', 'ms', 'ackMax'),
        row('informer handler → reconcile start p50', 'ms', 'p50'),
        row('informer handler → reconcile start p99', 'ms', 'p99'),
        row('informer handler → reconcile start max', 'ms', 'max'),
        row('machine load average (1 min) at the start', '', 'load'),
      ],
      notes: [
        'Write acknowledged → reconcile start: from the moment this process (the writer) got the API ' +
          "server's response to an update to the moment the measured process entered Reconcile for " +
          'it (same wall clock): watch delivery, decoding, the queue and the worker. It can be slightly ' +
          'negative when the watch event beats the response.',
        'Informer handler → reconcile start: stamped in the measured process when its informer hands ' +
          'the event to the controller; leaves out the time the event waited to be read and decoded.',
      ],
    },
  ];
}
