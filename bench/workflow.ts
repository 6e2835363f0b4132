/**
 * What a Workflow costs over the same work as independent Sessions. One apiserver-only control
 * plane; the operator as its own process (dist/cmd/manager.js, both controllers,
 * --max-concurrent-reconciles 10); this process plays the Job controller (each Job is marked
 * Complete as soon as it appears). Two runs on the same control plane, each with a fresh
 * operator watching its own namespace:
 *
 * 1. 1,000 independent Sessions, all created at once: creation of the first → all Succeeded;
 * 2. one Workflow of 1,000 tasks in 10 layers of 100, each task depending on two of the layer
 *    above (task i of layer l on tasks i and i+1 of layer l−1): creation → Succeeded.
 *
 * For each: wall time, the operator's API requests (rest_client_requests_total), its CPU
 * seconds and those of kube-apiserver and etcd. The Workflow's overhead is its time over the
 * Sessions' (target ≤ 10 % more), its extra requests per task, and its extra CPU.
 *
 * The operator runs with --kube-api-qps BENCH_QPS (default 500): at the operator's default of
 * 20 the client-side rate limit sets the pace, and a Workflow's task needs one request more than
 * a Session (its create, which a user makes for an independent Session) — the difference would
 * be the limiter's arithmetic, not the controller's. BENCH_WORKFLOW_LAYERS × BENCH_WORKFLOW_WIDTH
 * (default 10 × 100) sizes both runs. `make bench BENCH_ARGS=workflow` runs only this.
 * BENCH_WORKFLOW_ROUNDS=R (default 1) repeats the pair R times on the same control plane, each
 * round in namespaces of its own and alternating which run goes first, and reports each column's
 * median, with every round's time ratio in a note: one pair's ratio moves by ±0.15 between runs
 * on a shared 2-core machine.
 *
 * BENCH_WORKFLOW_SHAPED=1 gives the independent Sessions a task Session's metadata (labels,
 * annotations, a controller owner reference): each costs the API server work on every write, and
 * this shows how much of the Workflow's overhead that is.
 *
 * BENCH_DEBUG=1 also prints, per run, the API server's time by request kind, the Workflow
 * controller's reconcile count and time, and per layer when its tasks' Sessions appeared and
 * Succeeded: where a Workflow's extra time goes. BENCH_SERVER_PROFILE=<dir> writes kube-apiserver's
 * CPU profile (pprof) of each measured run's first 12 s there (`sessions.pb.gz`, `workflow.pb.gz`):
 * `go tool pprof -top -diff_base=sessions.pb.gz workflow.pb.gz` shows what the Workflow adds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  KubeClient,
  type KubernetesObject,
  RestTransport,
  setControllerReference,
  SharedInformer,
} from '../lib/index.js';
import {
  type ControlPlane,
  finishJob,
  installCRDs,
  startControlPlane,
  waitFor,
} from '../lib/testing/index.js';
import {
  ANNOTATION_TASK,
  ANNOTATION_UPSTREAM,
  ANNOTATION_WORKFLOW,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '../controllers/session/index.js';
import { LABEL_TASK, LABEL_WORKFLOW } from '../controllers/workflow/index.js';
import { cpuSecondsOf as cpuSeconds, profileServer, serverPids, type Table } from './util.js';

const LAYERS = Number(process.env.BENCH_WORKFLOW_LAYERS ?? 10);
const WIDTH = Number(process.env.BENCH_WORKFLOW_WIDTH ?? 100);
const N = LAYERS * WIDTH;
const QPS = process.env.BENCH_QPS ?? '500';
const ROOT = join(import.meta.dirname, '..', '..');
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const WORKFLOW = { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' };
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const TASK_SESSION = { template: { image: 'runner:bench', command: ['true'] } };
const ROUNDS = Number(process.env.BENCH_WORKFLOW_ROUNDS ?? 1);
const SERVER_PROFILES = process.env.BENCH_SERVER_PROFILE;
const SERVER_PROFILE_SECONDS = 12;

/**
 * BENCH_WORKFLOW_SHAPED=1: the independent Sessions carry what a task's Session carries (the
 * Workflow controller's labels and annotations and a controller owner reference, to a Workflow
 * that does not exist: an apiserver-only control plane runs no garbage collector). Each of
 * these metadata fields costs the API server work on every write of the Session, so this
 * separates that cost from the Workflow controller's own.
 */
const SHAPED = process.env.BENCH_WORKFLOW_SHAPED === '1';
const shapedMetadata = (namespace: string, name: string) =>
  setControllerReference(
    {
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Workflow',
      metadata: { name: 'layers', uid: '00000000-0000-4000-8000-000000000000' },
    },
    {
      metadata: {
        namespace,
        name,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_WORKFLOW]: 'layers', [LABEL_TASK]: name },
        annotations: {
          [ANNOTATION_WORKFLOW]: 'layers',
          [ANNOTATION_TASK]: name,
          [ANNOTATION_UPSTREAM]: '{}',
        },
      },
    },
  ).metadata;

interface Run {
  seconds: number;
  requests: number;
  operatorCpu: number;
  serverCpu: number;
}

/**
 * The API server's time spent per request kind (verb, resource, subresource) so far, in seconds,
 * from its apiserver_request_duration_seconds histogram: for BENCH_DEBUG's breakdown of where the
 * server's time went.
 */
async function serverTimes(transport: RestTransport): Promise<Map<string, { n: number; s: number }>> {
  const res = await transport.stream({ method: 'GET', path: '/metrics' });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const out = new Map<string, { n: number; s: number }>();
  for (const m of text.matchAll(/^apiserver_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(m[2]!)?.[1] ?? '';
    if (label('verb') === 'WATCH') continue;
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
    const e = out.get(key) ?? { n: 0, s: 0 };
    if (m[1] === 'sum') e.s += Number(m[3]);
    else e.n += Number(m[3]);
    out.set(key, e);
  }
  return out;
}

/**
 * Calls `onObject` with each object of the kind in `namespace` as it is added or changes, until
 * `signal` aborts. An informer (Steward's own, as bench/sessions.ts uses) rather than a bare
 * watch: the API server closes a watcher that falls behind (this process, starved of CPU on a
 * 2-core machine, can), and a bare watch would then miss the rest of the run, leaving the bench
 * waiting for an end it never sees; the informer watches again.
 */
function follow(
  client: KubeClient,
  gvk: typeof SESSION,
  namespace: string,
  signal: AbortSignal,
  onObject: (obj: KubernetesObject, added: boolean) => void,
): void {
  const informer = new SharedInformer(client, { gvk, namespaces: [namespace], resyncPeriodMs: 0 });
  informer.addEventHandler({ onAdd: (o) => onObject(o, true), onUpdate: (_old, o) => onObject(o, false) });
  void informer.run(signal).catch(() => {});
}

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Runs `work` against a fresh operator watching `ns`, playing the Job controller meanwhile; with
 * BENCH_SERVER_PROFILE, profiles the API server meanwhile into the file `profile` there.
 */
async function measure(
  cp: ControlPlane,
  client: KubeClient,
  ns: string,
  port: number,
  profile: string | undefined,
  work: () => Promise<void>,
): Promise<Run> {
  const operator: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'cmd', 'manager.js'),
      '--kubeconfig',
      cp.kubeconfigPath,
      '--namespace',
      ns,
      '--max-concurrent-reconciles',
      '10',
      '--metrics-bind-address',
      `127.0.0.1:${port}`,
      '--health-probe-bind-address',
      `127.0.0.1:${port + 1}`,
      '--runner-image',
      'runner:bench',
      '--log-level',
      'warn',
      '--kube-api-qps',
      QPS,
      '--kube-api-burst',
      String(Math.ceil(Number(QPS) * 1.5)),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stop = new AbortController();
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port + 1}/readyz`)).ok, {
      description: 'operator ready',
    });
    follow(client, JOB, ns, stop.signal, (job, added) => {
      if (added)
        void finishJob(client, { namespace: ns, name: job.metadata!.name! }, 'Complete').catch(() => {});
    });
    const servers = serverPids(cp.directory);
    const serverBefore = servers.reduce((s, pid) => s + cpuSeconds(pid), 0);
    const transport = process.env.BENCH_DEBUG ? new RestTransport(cp.kubeConfig, { qps: 0 }) : undefined;
    const timesBefore = transport && (await serverTimes(transport));
    const profiled =
      SERVER_PROFILES && profile
        ? profileServer(cp.kubeconfigPath, join(SERVER_PROFILES, profile), SERVER_PROFILE_SECONDS)
        : undefined;
    const t0 = performance.now();
    await work();
    const seconds = (performance.now() - t0) / 1000;
    await profiled;
    const serverCpu = servers.reduce((s, pid) => s + cpuSeconds(pid), 0) - serverBefore;
    if (transport && timesBefore) {
      const rows = [...(await serverTimes(transport))]
        .map(([k, e]) => ({
          k,
          n: e.n - (timesBefore.get(k)?.n ?? 0),
          s: e.s - (timesBefore.get(k)?.s ?? 0),
        }))
        .filter((r) => r.n > 0)
        .sort((a, b) => b.s - a.s);
      for (const r of rows.slice(0, 12))
        console.log(
          `  server ${r.k}: ${r.n} requests, ${r.s.toFixed(2)} s (${((1000 * r.s) / r.n).toFixed(1)} ms each)`,
        );
      transport.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let requests = 0;
    for (const m of metrics.matchAll(/^rest_client_requests_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm))
      requests += Number(m[1]);
    if (process.env.BENCH_DEBUG) {
      for (const m of metrics.matchAll(
        /^controller_runtime_reconcile_(?:total|time_seconds_(?:sum|count))\{[^}]*controller="[^"]*"[^}]*\} [\d.e+-]+$/gm,
      ))
        if (!/ 0$/.test(m[0])) console.log(`  operator ${m[0]}`);
      let wait = 0;
      let waited = 0;
      for (const m of metrics.matchAll(
        /^rest_client_rate_limiter_duration_seconds_(sum|count)\{[^}]*\} ([\d.e+-]+)$/gm,
      ))
        if (m[1] === 'sum') wait += Number(m[2]);
        else waited += Number(m[2]);
      console.log(
        `  operator client-side rate limiter: ${wait.toFixed(2)} s of waits over ${waited} requests (${((1000 * wait) / Math.max(1, waited)).toFixed(2)} ms each)`,
      );
    }
    // The operator's whole life: start-up and sync are the same in both runs.
    const operatorCpu = cpuSeconds(operator.pid!);
    return { seconds, requests, operatorCpu, serverCpu };
  } finally {
    stop.abort();
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  }
}

export async function run(): Promise<Table[]> {
  if (SERVER_PROFILES) mkdirSync(SERVER_PROFILES, { recursive: true });
  const cp = await startControlPlane(SERVER_PROFILES ? { apiServerFlags: ['--profiling=true'] } : {});
  const client = new KubeClient(cp.kubeConfig, { qps: 5000, burst: 5000 });
  try {
    await installCRDs(client, [
      join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
      join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
      // As installed (kubectl apply -k manifests/crd): it sees updates of a Workflow, not its status writes.
      join(ROOT, 'manifests', 'crd', 'workflow-tasks-immutable.yaml'),
    ]);
    if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1))
      throw new RangeError(
        `BENCH_WORKFLOW_ROUNDS must be a whole number >= 1, not ${process.env.BENCH_WORKFLOW_ROUNDS}`,
      );
    // Round 1 in bench-sessions and bench-workflow, round k in bench-sessions-k and bench-workflow-k.
    const nsOf = (kind: 'sessions' | 'workflow', round: number) =>
      `bench-${kind}${round === 0 ? '' : `-${round + 1}`}`;
    for (let r = 0; r < ROUNDS; r++)
      for (const ns of [nsOf('sessions', r), nsOf('workflow', r)])
        await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-warmup' } });
    const phaseOf = (o: KubernetesObject) => (o as { status?: { phase?: string } }).status?.phase;

    const sessionsRun = async (ns: string, n: number) => {
      const done = new Set<string>();
      const ac = new AbortController();
      follow(client, SESSION, ns, ac.signal, (session) => {
        if (phaseOf(session) === 'Succeeded') done.add(session.metadata!.name!);
      });
      const names = Array.from({ length: n }, (_, i) => `s-${i}`);
      await pool(names, 32, async (name) => {
        await client.create({
          apiVersion: 'steward.dev/v1alpha1',
          kind: 'Session',
          metadata: SHAPED ? shapedMetadata(ns, name) : { namespace: ns, name },
          spec: TASK_SESSION,
        });
      });
      await waitFor(() => done.size >= n, {
        description: `${n} Sessions Succeeded`,
        timeoutMs: 30 * 60_000,
        intervalMs: 50,
      });
      ac.abort();
    };

    // A small warm-up, so that neither measured run pays for the API server's first requests.
    await measure(cp, client, 'bench-warmup', 18090, undefined, () => sessionsRun('bench-warmup', 100));
    const measureSessions = (round: number) =>
      measure(cp, client, nsOf('sessions', round), 18090, round === 0 ? 'sessions.pb.gz' : undefined, () =>
        sessionsRun(nsOf('sessions', round), N),
      );

    const tasks: Array<{ name: string; dependsOn?: string[]; session: typeof TASK_SESSION }> = [];
    for (let l = 0; l < LAYERS; l++) {
      for (let i = 0; i < WIDTH; i++) {
        const deps = l === 0 ? [] : [`l${l - 1}-${i}`, `l${l - 1}-${(i + 1) % WIDTH}`];
        tasks.push({
          name: `l${l}-${i}`,
          ...(deps.length ? { dependsOn: [...new Set(deps)] } : {}),
          session: TASK_SESSION,
        });
      }
    }
    const measureWorkflow = (round: number) => {
      const wns = nsOf('workflow', round);
      return measure(cp, client, wns, 18090, round === 0 ? 'workflow.pb.gz' : undefined, async () => {
        const t0 = performance.now();
        // Each task's Session: when it appeared and when it Succeeded, for BENCH_DEBUG's timeline.
        const timeline = new Map<string, { created: number; done?: number }>();
        let phase: string | undefined;
        const ac = new AbortController();
        // Watched, not polled: each GET of a 1,000-task Workflow is half a megabyte for the API
        // server to encode, which would weigh on the run being measured.
        follow(client, WORKFLOW, wns, ac.signal, (wf) => {
          phase = phaseOf(wf);
        });
        if (process.env.BENCH_DEBUG) {
          follow(client, SESSION, wns, ac.signal, (session) => {
            const name = session.metadata!.name!;
            const e = timeline.get(name) ?? { created: performance.now() - t0 };
            if (phaseOf(session) === 'Succeeded') e.done ??= performance.now() - t0;
            timeline.set(name, e);
          });
        }
        await client.create({
          apiVersion: 'steward.dev/v1alpha1',
          kind: 'Workflow',
          metadata: { namespace: wns, name: 'layers' },
          spec: { tasks },
        });
        try {
          await waitFor(
            () => {
              if (phase === 'Failed' || phase === 'Cancelled') throw new Error(`the Workflow ended ${phase}`);
              return phase === 'Succeeded';
            },
            { description: 'the Workflow Succeeded', timeoutMs: 10 * 60_000, intervalMs: 50 },
          );
        } catch (err) {
          // Say where it stands, for whoever has to find out why.
          const wf = (await client.get(WORKFLOW, {
            namespace: wns,
            name: 'layers',
          })) as KubernetesObject & {
            status?: {
              phase?: string;
              reason?: string;
              message?: string;
              tasks?: Record<string, { phase: string }>;
            };
          };
          const byPhase = (xs: string[]) =>
            Object.entries(Object.groupBy(xs, (x) => x)).map(([k, v]) => `${k} ${v!.length}`);
          const sessions = (await client.list(SESSION, { namespace: wns })).items;
          console.error(
            `  workflow: ${wf.status?.phase} (${wf.status?.reason}: ${wf.status?.message}); tasks ${byPhase(
              Object.values(wf.status?.tasks ?? {}).map((t) => t.phase),
            ).join(', ')}; Sessions ${byPhase(sessions.map((x) => phaseOf(x) ?? 'none')).join(', ')}`,
          );
          throw err;
        }
        ac.abort();
        for (let l = 0; l < LAYERS && process.env.BENCH_DEBUG; l++) {
          const es = [...timeline].filter(([n]) => n.startsWith(`layers-l${l}-`)).map(([, e]) => e);
          const span = (xs: number[]) =>
            `${(Math.min(...xs) / 1000).toFixed(1)}–${(Math.max(...xs) / 1000).toFixed(1)} s`;
          console.log(
            `  layer ${l}: created ${span(es.map((e) => e.created))}, Succeeded ${span(es.map((e) => e.done ?? NaN))}`,
          );
        }
      });
    };
    // Rounds alternate which run goes first: on a shared machine the ratio of one pair moves by
    // ±0.15 from run to run, and later runs find more objects in etcd.
    const rounds: Array<{ sessions: Run; workflow: Run }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      let sessions: Run;
      let workflow: Run;
      if (r % 2 === 0) {
        sessions = await measureSessions(r);
        workflow = await measureWorkflow(r);
      } else {
        workflow = await measureWorkflow(r);
        sessions = await measureSessions(r);
      }
      rounds.push({ sessions, workflow });
      console.log(
        `  workflow${ROUNDS > 1 ? ` (round ${r + 1} of ${ROUNDS})` : ''}: ${N} tasks (${LAYERS} layers × ${WIDTH}) in ${workflow.seconds.toFixed(1)} s; ` +
          `${N} independent Sessions in ${sessions.seconds.toFixed(1)} s (operator at ${QPS} QPS)`,
      );
    }
    const median = (pick: (r: { sessions: Run; workflow: Run }) => number) => {
      const xs = rounds.map(pick).sort((a, b) => a - b);
      const m = xs.length >> 1;
      return xs.length % 2 === 1 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
    };
    const sessions: Run = {
      seconds: median((r) => r.sessions.seconds),
      requests: median((r) => r.sessions.requests),
      operatorCpu: median((r) => r.sessions.operatorCpu),
      serverCpu: median((r) => r.sessions.serverCpu),
    };
    const workflow: Run = {
      seconds: median((r) => r.workflow.seconds),
      requests: median((r) => r.workflow.requests),
      operatorCpu: median((r) => r.workflow.operatorCpu),
      serverCpu: median((r) => r.workflow.serverCpu),
    };
    const perRound = rounds.map((r) => `${(r.workflow.seconds / r.sessions.seconds).toFixed(2)}×`).join(', ');
    return [
      {
        title:
          `A Workflow of ${N} tasks (${LAYERS} layers × ${WIDTH}) vs ${N} independent Sessions${SHAPED ? ' shaped as task Sessions' : ''}, operator at ${QPS} QPS` +
          (ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''),
        columns: ['Sessions', 'Workflow'],
        ratio: { label: 'Workflow / Sessions', of: [1, 0] },
        rows: [
          {
            name: 'creation → all Succeeded',
            unit: 's',
            values: [sessions.seconds, workflow.seconds],
            goal: { text: '≤ 1.10×', met: workflow.seconds <= 1.1 * sessions.seconds },
          },
          {
            name: 'operator API requests per Session / task',
            unit: 'requests',
            values: [sessions.requests / N, workflow.requests / N],
          },
          { name: 'operator CPU', unit: 's', values: [sessions.operatorCpu, workflow.operatorCpu] },
          { name: 'kube-apiserver + etcd CPU', unit: 's', values: [sessions.serverCpu, workflow.serverCpu] },
        ],
        notes: [
          "A Workflow's task costs one request more than an independent Session: its create, which a user makes for an independent Session.",
          ...(SHAPED
            ? [
                "BENCH_WORKFLOW_SHAPED=1: the independent Sessions carry a task Session's labels, annotations and controller owner reference, so the ratio leaves out what those cost the API server.",
              ]
            : []),
          ...(ROUNDS > 1
            ? [
                `Each figure is the median of ${ROUNDS} rounds on the same control plane, each round a fresh operator per run, alternating which run goes first; the time ratio per round: ${perRound}.`,
              ]
            : []),
        ],
      },
    ];
  } finally {
    client.close();
    await cp.stop();
  }
}
