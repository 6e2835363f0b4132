/**
 * Steward's side of bench/latency.ts, run as its own process (as bench/peer's `latency` is):
 * a Manager with one controller over ConfigMaps labelled bench=latency, whose handler stamps
 * each event as the informer hands it over and whose reconciler records how long after that
 * it started, and the wall-clock time each reconcile started with the `seq` it read from the
 * cache (the writer joins that with the time its write was acknowledged). A ConfigMap named
 * lat-end ends the run: the figures go to stdout as one JSON object ({count, p50, p99, max}
 * in milliseconds, starts: [seq, epoch ms][]) and the process exits.
 *
 *   node dist/bench/latency-target.js --kubeconfig F --namespace NS \
 *     --health-probe-bind-address ADDR [--max-concurrent-reconciles N]
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Manager, type Request } from '../lib/index.js';
import { quantile } from './util.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(flag('kubeconfig'));
const namespace = flag('namespace', 'bench');
const mgr = await Manager.create({
  kubeConfig,
  namespaces: [namespace],
  metricsBindAddress: '0',
  healthProbeBindAddress: flag('health-probe-bind-address'),
});
const stop = new AbortController();
// The oldest event of each key not yet reconciled, and the measured waits.
const pending = new Map<string, number>();
const latencies: number[] = [];
const starts: Array<[number, number]> = [];
const keyOf = (r: Request) => `${r.namespace}/${r.name}`;

mgr
  .controller('latency')
  .watches(
    CM,
    (e) => {
      if (e.type === 'delete') return [];
      const req = { namespace: e.object.metadata!.namespace!, name: e.object.metadata!.name! };
      // The initial list is not part of the measurement.
      if (!(e.type === 'create' && e.isInInitialList) && !pending.has(keyOf(req)))
        pending.set(keyOf(req), performance.now());
      return [req];
    },
    { informer: { labelSelector: { bench: 'latency' } } },
  )
  .withOptions({ maxConcurrentReconciles: Number(flag('max-concurrent-reconciles', '10')) })
  .complete({
    async reconcile(req) {
      const wall = performance.timeOrigin + performance.now();
      const at = pending.get(keyOf(req));
      if (at !== undefined) {
        pending.delete(keyOf(req));
        latencies.push(performance.now() - at);
      }
      const cm = await mgr.cache.get<{ data?: Record<string, string> }>(CM, req);
      const seq = Number(cm.data?.seq);
      if (seq > 0) starts.push([seq, wall]);
      if (req.name === 'lat-end') stop.abort();
    },
  });

await mgr.start(stop.signal);
const sorted = latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({ count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? 0, starts })}\n`,
);
process.exit(0);
