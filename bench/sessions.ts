/**
 * The Session operator under load, side by side with the controller-runtime peer (bench/peer).
 *
 * Each run gets a fresh apiserver-only control plane (etcd + kube-apiserver), measures the
 * API server's raw write capacity there (creates + status patches per second from a tight
 * client), then starts one operator as its own process with --max-concurrent-reconciles 10 and
 * creates N Sessions at once; this process plays the Job controller (each Job is marked
 * Complete as soon as it appears). The runs go one after the other (see BENCH_ORDER below):
 *
 *   default flags:   Steward, peer (20 QPS / burst 30 per REST client, as client-go applies them)
 *   --kube-api-qps 500 --kube-api-burst 750: Steward, peer, peer with one shared limiter
 *
 * Figures per run: Sessions/s, the operator's API requests per Session (rest_client_requests_total
 * from ready to the last Succeeded; 409s counted apart), p50/p99 creation → Succeeded, CPU per
 * Session (from ready to the last Succeeded), peak RSS, raw capacity and the share of it used.
 *
 * BENCH_SESSIONS (default 2000) sets N; BENCH_QPS (default "default,500") the configurations;
 * BENCH_ORDER the order of each configuration's columns: steward-first, peer-first, or aba
 * (Steward, the peers, Steward again; the ratios take the mean of Steward's two columns); by
 * default the configurations alternate (default flags Steward first, QPS 500 the peers first);
 * BENCH_BASELINE=<checkout> adds a column at QPS 500 running that checkout's build (its dist/,
 * from `make build`) beside this one's: a change's before and after in the same run, with the
 * peer (the ratios still compare this checkout's Steward with the peer);
 * BENCH_PROFILE=<dir> writes a CPU profile and a heap snapshot (taken once every Session has
 * Succeeded, so 2,000 Sessions and 2,000 Jobs are cached) of Steward's QPS-500 run there.
 * BENCH_SERVER_PROFILE=<dir> writes kube-apiserver's CPU profile (pprof, the first 15 s of each
 * QPS-500 run's Sessions) there: `go tool pprof -top FILE` shows what the server spends them on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, type KubernetesObject, SharedInformer } from '../lib/index.js';
import { finishJob, installCRDs, startControlPlane, waitFor } from '../lib/testing/index.js';
import { imageNodeFlags, OperatorProcess, type OperatorKind } from './operator.js';
import {
  cpuSecondsOf,
  loadAverage,
  profileServer,
  quantile,
  ROOT,
  type Row,
  type Table,
  serverPids,
} from './util.js';

const N = Number(process.env.BENCH_SESSIONS ?? 2000);
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const NS = 'bench';

export interface RunSpec {
  column: string;
  kind: OperatorKind;
  args: string[];
  profileDir?: string;
  /** Where to write a CPU profile of kube-apiserver (pprof) taken while this run's Sessions go. */
  serverProfile?: string;
  /** Steward only: another checkout's build to run (BENCH_BASELINE), shown but not compared. */
  root?: string;
}

export interface RunFigures {
  sessionsPerS: number;
  requestsPerSession: number;
  conflictsPerSession: number;
  p50: number;
  p99: number;
  cpuMsPerSession: number;
  cpuTotalS: number;
  /** kube-apiserver + etcd CPU per Session, over the same span as the operator's. */
  serverCpuMsPerSession: number;
  /** This process's (Session creates, the Job controller's part, the informers). */
  benchCpuMsPerSession: number;
  /** Mean duration of a reconcile and of an API request (controller-runtime's histograms). */
  reconcileMs: number;
  reconcilesPerSession: number;
  requestMs: number;
  /** Mean wait of a request for the client-side rate limiter (Steward only), and of a key in the work queue. */
  limiterMs: number;
  queueMs: number;
  peakRssMiB: number;
  rssMiB: number;
  /** Resident set size once ready, before the first Session. */
  readyRssMiB: number;
  capacity: number;
  sharePct: number;
  /** Every write of the run (the operator's, and this process's creates and Job completions). */
  allSharePct: number;
  load: number;
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
export async function rawCapacity(client: KubeClient, seconds: number, prefix: string): Promise<number> {
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

/** A control plane with the Session CRD, the namespaces and its raw capacity measured. */
export async function sessionControlPlane(opts: { profiling?: boolean } = {}) {
  // The harness turns the apiserver's /debug/pprof off; a later flag wins.
  const cp = await startControlPlane(opts.profiling ? { apiServerFlags: ['--profiling=true'] } : {});
  const client = new KubeClient(cp.kubeConfig, { qps: -1 });
  await installCRDs(client, [join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml')]);
  for (const ns of [NS, 'raw'])
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await rawCapacity(client, 2, 'warmup');
  const capacity = await rawCapacity(client, 5, 'raw');
  return { cp, client, capacity };
}

/**
 * Runs `n` Sessions to Succeeded through one operator; `after` runs with the operator still
 * up (and every Session done) before it is stopped.
 */
export async function sessionRun(
  spec: RunSpec,
  n: number,
  after?: (ctx: { op: OperatorProcess; client: KubeClient; kubeconfigPath: string }) => Promise<void>,
): Promise<RunFigures> {
  const load = loadAverage();
  const { cp, client, capacity } = await sessionControlPlane({ profiling: spec.serverProfile !== undefined });
  let op: OperatorProcess | undefined;
  const stopWatches = new AbortController();
  let informers: Promise<void>[] = [];
  try {
    op = await OperatorProcess.start({
      kind: spec.kind,
      kubeconfigPath: cp.kubeconfigPath,
      namespace: NS,
      args: ['--max-concurrent-reconciles', '10', '--runner-image', 'runner:bench', ...spec.args],
      profileDir: spec.profileDir,
      root: spec.root,
    });
    const servers = serverPids(cp.directory);
    const serverCpu = () => servers.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
    const benchCpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    const cpu0 = op.cpuSeconds();
    const server0 = serverCpu();
    const bench0 = benchCpu();
    const rec0 = await op.histogramMean('controller_runtime_reconcile_time_seconds');
    const lat0 = await op.histogramMean('rest_client_request_duration_seconds');
    const wait0 = await op.histogramMean('rest_client_rate_limiter_duration_seconds');
    const queue0 = await op.histogramMean('workqueue_queue_duration_seconds');
    const mem0 = op.memory();
    const req0 = await op.requests();

    // Play the Job controller: complete each Job as it appears. Informers (Steward's, the same
    // for both operators) rather than bare watches, so a watch the server ends is resumed.
    type Phased = KubernetesObject & { status?: { phase?: string; message?: string } };
    const jobs = new SharedInformer(client, { gvk: JOB, namespaces: [NS], resyncPeriodMs: 0 });
    jobs.addEventHandler({
      onAdd: (job) =>
        void finishJob(client, { namespace: NS, name: job.metadata!.name! }, 'Complete').catch(() => {}),
    });
    const created = new Map<string, number>();
    const done = new Map<string, number>();
    let failed: string | undefined;
    const sessions = new SharedInformer<Phased>(client, {
      gvk: SESSION,
      namespaces: [NS],
      resyncPeriodMs: 0,
    });
    const seen = (s: Phased) => {
      const name = s.metadata?.name;
      const phase = s.status?.phase;
      if (name && phase === 'Succeeded' && !done.has(name)) done.set(name, performance.now());
      else if (name && (phase === 'Failed' || phase === 'TimedOut'))
        failed = `${name}: ${phase}: ${s.status?.message}`;
    };
    sessions.addEventHandler({ onAdd: seen, onUpdate: (_old, s) => seen(s) });
    informers = [jobs.run(stopWatches.signal), sessions.run(stopWatches.signal)];
    await Promise.all([jobs.waitForSync(), sessions.waitForSync()]);

    const names = Array.from({ length: n }, (_, i) => `s-${i}`);
    const serverProfile = spec.serverProfile && profileServer(cp.kubeconfigPath, spec.serverProfile, 15);
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
    await waitFor(
      () => {
        if (failed) throw new Error(`a Session did not succeed: ${failed}`);
        return done.size >= n;
      },
      { description: `${n} Sessions Succeeded (${spec.column})`, timeoutMs: 60 * 60_000, intervalMs: 100 },
    );
    const elapsedS = (performance.now() - t0) / 1000;
    if (serverProfile) await serverProfile;
    const cpu = op.cpuSeconds();
    const server = serverCpu();
    const bench = benchCpu();
    const req = await op.requests();
    const mem = op.memory();
    const rec = await op.histogramMean('controller_runtime_reconcile_time_seconds');
    const lat = await op.histogramMean('rest_client_request_duration_seconds');
    const wait = await op.histogramMean('rest_client_rate_limiter_duration_seconds');
    const queue = await op.histogramMean('workqueue_queue_duration_seconds');
    const requests = req.total - req0.total;
    const conflicts = (req.byCode['409'] ?? 0) - (req0.byCode['409'] ?? 0);
    const latencies = names.map((s) => (done.get(s)! - created.get(s)!) / 1000).sort((a, b) => a - b);
    if (after) await after({ op, client, kubeconfigPath: cp.kubeconfigPath });
    const figures: RunFigures = {
      sessionsPerS: n / elapsedS,
      requestsPerSession: requests / n,
      conflictsPerSession: conflicts / n,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      cpuMsPerSession: ((cpu - cpu0) * 1000) / n,
      cpuTotalS: cpu,
      serverCpuMsPerSession: ((server - server0) * 1000) / n,
      benchCpuMsPerSession: ((bench - bench0) * 1000) / n,
      reconcileMs: (1000 * (rec.sum - rec0.sum)) / (rec.count - rec0.count),
      reconcilesPerSession: (rec.count - rec0.count) / n,
      requestMs: (1000 * (lat.sum - lat0.sum)) / (lat.count - lat0.count),
      limiterMs: (1000 * (wait.sum - wait0.sum)) / (wait.count - wait0.count),
      queueMs: (1000 * (queue.sum - queue0.sum)) / (queue.count - queue0.count),
      peakRssMiB: mem.peakRssMiB,
      rssMiB: mem.rssMiB,
      readyRssMiB: mem0.rssMiB,
      capacity,
      // The operator's requests are nearly all writes (reads come from its cache): compare its
      // request rate with the write rate the server took from a tight client.
      sharePct: (100 * (requests / elapsedS)) / capacity,
      allSharePct: (100 * ((requests + 2 * n) / elapsedS)) / capacity,
      load,
    };
    console.error(
      `  sessions: ${spec.column}: ${n} Sessions in ${elapsedS.toFixed(1)} s, ` +
        `${figures.sessionsPerS.toFixed(1)}/s, load ${load.toFixed(1)}`,
    );
    return figures;
  } finally {
    stopWatches.abort();
    await Promise.all(informers);
    await op?.stop();
    client.close();
    await cp.stop();
  }
}

type Better = 'higher' | 'lower';
type Goal = { text: string; test: (ratio: number, steward: number) => boolean };

/**
 * A row with Steward's value against the best of the peer columns. Steward's columns are
 * `steward` (default the first); with two (an A-B-A run) their mean is compared, which cancels
 * a machine that drifts steadily over the run. Columns in `shownOnly` (a baseline build) are
 * neither.
 */
export function compareRow(
  name: string,
  unit: string,
  values: number[],
  better: Better,
  goal?: Goal,
  steward: number[] = [0],
  shownOnly: number[] = [],
): Row {
  const peers = values.filter((_, i) => !steward.includes(i) && !shownOnly.includes(i));
  const bestPeer = better === 'higher' ? Math.max(...peers) : Math.min(...peers);
  const ours = steward.reduce((sum, i) => sum + values[i]!, 0) / steward.length;
  const ratio = ours / bestPeer;
  return {
    name,
    unit,
    values,
    ratio,
    goal: goal && { text: goal.text, met: Number.isFinite(ratio) ? goal.test(ratio, ours) : undefined },
  };
}

/** The order the columns of one configuration run in (BENCH_ORDER). */
export type RunOrder = 'steward-first' | 'peer-first' | 'aba';

/**
 * BENCH_ORDER, or by default Steward first for the first configuration and the peers first
 * for the next, alternating, so that a machine that gets busier (or quieter) during the run
 * does not always favour the same operator.
 */
export function runOrder(env: string | undefined, configIndex: number): RunOrder {
  if (env === undefined || env === '') return configIndex % 2 === 0 ? 'steward-first' : 'peer-first';
  if (env === 'steward-first' || env === 'peer-first' || env === 'aba') return env;
  throw new RangeError(`BENCH_ORDER must be steward-first, peer-first or aba, got ${JSON.stringify(env)}`);
}

/** `specs` (Steward's column first, then the peers') in the order `order` runs them. */
export function ordered(specs: RunSpec[], order: RunOrder): RunSpec[] {
  const [ours, ...peers] = specs;
  if (order === 'peer-first') return [...peers, ours!];
  if (order === 'aba')
    return [ours!, ...peers, { ...ours!, column: `${ours!.column}, again`, profileDir: undefined }];
  return specs;
}

function tableFor(label: string, specs: RunSpec[], f: RunFigures[]): Table {
  const at500 = label !== 'default flags';
  const col = <K extends keyof RunFigures>(k: K) => f.map((x) => x[k]);
  const steward = specs.flatMap((s, i) => (s.kind === 'steward' && s.root === undefined ? [i] : []));
  const baseline = specs.flatMap((s, i) => (s.root !== undefined ? [i] : []));
  const row = (name: string, unit: string, values: number[], better: Better, goal?: Goal): Row =>
    compareRow(name, unit, values, better, goal, steward, baseline);
  const rows: Row[] = [
    row('throughput', 'Sessions/s', col('sessionsPerS'), 'higher', {
      text: at500 ? '≥ 1.0× best peer' : '≥ 1.0× peer',
      test: (r) => r >= 1,
    }),
    row(
      'throughput per 100 writes/s of the run’s raw capacity',
      'Sessions/s',
      f.map((x) => (100 * x.sessionsPerS) / x.capacity),
      'higher',
    ),
    row('API requests per Session', 'requests', col('requestsPerSession'), 'lower', {
      text: '≤ 5',
      test: (_, s) => s <= 5.005,
    }),
    row('  of which conflicts (409)', 'requests', col('conflictsPerSession'), 'lower'),
    row('creation → Succeeded p50', 's', col('p50'), 'lower'),
    row('creation → Succeeded p99', 's', col('p99'), 'lower', {
      text: '≤ 1.0× best peer',
      test: (r) => r <= 1,
    }),
    row('operator CPU per Session', 'ms', col('cpuMsPerSession'), 'lower', {
      text: '≤ 1.0× best peer',
      test: (r) => r <= 1,
    }),
    row('operator CPU, whole process', 's', col('cpuTotalS'), 'lower'),
    row('kube-apiserver + etcd CPU per Session', 'ms', col('serverCpuMsPerSession'), 'lower'),
    row(
      'this process’s CPU per Session (creates, Job completions)',
      'ms',
      col('benchCpuMsPerSession'),
      'lower',
    ),
    row('reconciles per Session', '', col('reconcilesPerSession'), 'lower'),
    row('reconcile duration, mean', 'ms', col('reconcileMs'), 'lower'),
    row('API request duration, mean', 'ms', col('requestMs'), 'lower'),
    row('client-side rate limiter wait per request, mean', 'ms', col('limiterMs'), 'lower'),
    row('work queue wait of a key, mean', 'ms', col('queueMs'), 'lower'),
    row('operator peak RSS', 'MiB', col('peakRssMiB'), 'lower', {
      text: '≤ 1.5× best peer',
      test: (r) => r <= 1.5,
    }),
    row("API server's raw write capacity, this run", 'writes/s', col('capacity'), 'higher'),
    row('operator requests/s as a share of it', '%', col('sharePct'), 'higher', {
      text: at500 ? '≥ 80 %' : '(bound by the client-side limit)',
      test: (_, s) => !at500 || s >= 80,
    }),
    row('all writes of the run as a share of it', '%', col('allSharePct'), 'higher'),
    row('machine load average (1 min) at the start', '', col('load'), 'lower'),
  ];
  return {
    title: `Sessions, ${label}: ${N} Sessions, 10 workers, apiserver-only control plane`,
    columns: specs.map((s) => s.column),
    ratio: { label: steward.length > 1 ? 'Steward (mean) ÷ best peer' : 'Steward ÷ best peer', of: [0, 1] },
    rows,
    notes: [
      'Each column ran alone on its own fresh control plane, one after the other, in the order shown ' +
        '(BENCH_ORDER: steward-first, peer-first or aba; by default the configurations alternate which ' +
        "operator goes first); the ratio divides Steward's figure (the mean of its columns in an A-B-A run) " +
        'by the best peer column (highest throughput and share, lowest of the rest).',
      'Requests and CPU count from the moment the operator was ready (caches synced) to the last ' +
        'Succeeded; "whole process" includes start-up.',
      'Throughput at --kube-api-qps 500 is bound by the API server, whose raw capacity varies with ' +
        'the load on the machine from run to run: the row below it divides by that capacity. The peer ' +
        'exports no rest_client_request_duration_seconds (controller-runtime registers only the request counter) ' +
        'nor a rate limiter histogram.',
      'kube-apiserver + etcd CPU counts over the same span as the operator’s: with the operator and this ' +
        'process they share the 2 cores, so the throughput of a saturated run is what their CPU per Session ' +
        'allows. "Work queue wait" is workqueue_queue_duration_seconds: 2,000 Sessions arrive at once for 10 workers.',
      `Steward runs as its image runs it: node ${imageNodeFlags().join(' ')} dist/cmd/manager.js (Dockerfile)` +
        (process.env.BENCH_NODE_FLAGS
          ? `, with BENCH_NODE_FLAGS=${process.env.BENCH_NODE_FLAGS} after them.`
          : '.'),
      "Per Session the API server takes 7 writes: the operator's 5 (Job, 2 status patches, 2 Events) " +
        "and this process's 2 (the Session's create, the Job's completion), so the operator's share " +
        'of the raw capacity stays below 5/7 ≈ 71 % even when the server is saturated; "all writes" ' +
        'shows how close to saturation the run was.',
    ],
  };
}

export async function run(): Promise<Table[]> {
  const configs = (process.env.BENCH_QPS ?? 'default,500').split(',').map((s) => s.trim());
  const profile = process.env.BENCH_PROFILE;
  const serverProfiles = process.env.BENCH_SERVER_PROFILE;
  if (serverProfiles) mkdirSync(serverProfiles, { recursive: true });
  const tables: Table[] = [];
  for (const [index, qps] of configs.entries()) {
    const order = runOrder(process.env.BENCH_ORDER, index);
    const flags =
      qps === 'default'
        ? []
        : ['--kube-api-qps', qps, '--kube-api-burst', String(Math.ceil(Number(qps) * 1.5))];
    const columns: RunSpec[] =
      qps === 'default'
        ? [
            { column: 'Steward', kind: 'steward', args: [] },
            { column: 'peer', kind: 'peer', args: [] },
          ]
        : [
            {
              column: 'Steward',
              kind: 'steward',
              args: flags,
              profileDir: profile ? join(profile, `steward-qps${qps}`) : undefined,
            },
            { column: 'peer', kind: 'peer', args: flags },
            { column: 'peer, one limiter', kind: 'peer', args: [...flags, '--shared-rate-limiter'] },
          ];
    const baseline = process.env.BENCH_BASELINE;
    if (baseline && qps !== 'default') {
      columns.splice(1, 0, { column: 'Steward, baseline', kind: 'steward', args: flags, root: baseline });
    }
    const specs = ordered(columns, order);
    const figures: RunFigures[] = [];
    for (const spec of specs) {
      if (serverProfiles && qps !== 'default') {
        spec.serverProfile = join(serverProfiles, `${spec.column.replace(/\W+/g, '-')}-qps${qps}.pprof`);
      }
      figures.push(
        await sessionRun(spec, N, async ({ op }) => {
          const file = await op.heapSnapshot();
          if (file) console.error(`  sessions: heap snapshot ${file}`);
        }),
      );
    }
    tables.push(tableFor(qps === 'default' ? 'default flags' : `--kube-api-qps ${qps}`, specs, figures));
  }
  return tables;
}
