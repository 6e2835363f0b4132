// Fuzzed Sessions against a real kube-apiserver with the operator running: random specs within
// the CRD schema (session-fuzz-specs.ts), two tenant policies (the safe defaults, and one that
// allows everything, so that odd templates reach the Job API), and a stand-in for the Job
// controller and the kubelet that completes, fails, runs, starves or deletes each Job at random.
// Every Session the API server accepts must get a phase with a reason, never change a terminal
// phase, never have two active Jobs, keep no active Job once terminal, and the operator must go
// quiet: no reconcile errors, no hot loop, and no object names in its metrics' labels.
//
// Seeded and modest by default; a bigger batch by hand:
//   STEWARD_FUZZ_SESSIONS=400 STEWARD_FUZZ_SEED=7 npx jest --selectProjects integration session-fuzz
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import {
  isTerminal,
  type Job,
  jobFinished,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  ANNOTATION_SESSION,
  type Phase,
  type TenantPolicy,
} from '../../controllers/session/index.js';
import {
  createLogger,
  isNotFound,
  isStatusError,
  KubeClient,
  type KubernetesObject,
  type WatchEvent,
} from '../../lib/index.js';
import { type ControlPlane, finishJob, startControlPlane, waitFor } from '../../lib/testing/index.js';
import { EDGE_SPECS, type Fate, fate, sessionName, sessionSpec } from './session-fuzz-specs.js';
import { installCrd, JOB, POD, type SessionObj, startOperator } from './session-helpers.js';

const COUNT = Number(process.env.STEWARD_FUZZ_SESSIONS ?? 80);
const SEED = Number(process.env.STEWARD_FUZZ_SEED ?? 20261201);
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const SAFE = 'fuzz';
const OPEN = 'fuzz-open';

/** A policy that allows whatever the schema does, so that odd templates reach the Job API. */
const ANYTHING: TenantPolicy = {
  serviceAccounts: { allowed: ['*'], automountToken: false },
  secrets: { allowed: ['*'] },
  configMaps: { allowed: ['*'] },
  tolerations: { allowed: [{ operator: 'Exists' }] },
  nodeSelector: { allowed: [{ key: '*', values: ['*'] }] },
  labels: { allowedKeys: ['*'], deniedKeys: [], serviceSelectorKeys: [] },
  annotations: { allowedKeys: ['*'], deniedKeys: [] },
  resources: {
    max: { cpu: '1E', memory: '1E', 'ephemeral-storage': '1E', 'nvidia.com/gpu': '1E', pods: '1E' },
  },
};

let cp: ControlPlane;
let client: KubeClient;
const operators: Array<Awaited<ReturnType<typeof startOperator>>> = [];
const logLines: string[] = [];
const ac = new AbortController();

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 1_000, burst: 1_000 });
  await installCrd(client);
  for (const ns of [SAFE, OPEN]) {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'warn', stream: sink });
  operators.push(await startOperator(cp.kubeConfig, { namespaces: [SAFE], logger }));
  operators.push(await startOperator(cp.kubeConfig, { namespaces: [OPEN], tenantPolicy: ANYTHING, logger }));
});
afterAll(async () => {
  ac.abort();
  for (const op of operators) await op.stop();
  client?.close();
  await cp?.stop();
});

/** Everything the watches saw: each Session's statuses in order, and each Job's life. */
class Observer {
  readonly statuses = new Map<string, Array<NonNullable<SessionObj['status']>>>();
  readonly uids = new Map<string, string>();
  readonly deleted = new Set<string>();
  /** Session uid → names of its Jobs that are active (created, not finished, not deleted). */
  readonly active = new Map<string, Set<string>>();
  readonly problems: string[] = [];
  readonly jobs = new Map<string, Job>();
  lastChange = Date.now();

  async start(onJob: (job: Job) => void): Promise<void> {
    const [sessions, jobs] = await Promise.all([client.list(SESSION), client.list(JOB)]);
    void this.#follow<SessionObj>(SESSION, sessions.metadata.resourceVersion!, (e) => this.#session(e));
    void this.#follow<Job>(JOB, jobs.metadata.resourceVersion!, (e) => {
      this.#job(e);
      if (e.type === 'ADDED') onJob(e.object);
    });
  }

  #session(e: WatchEvent<SessionObj>): void {
    const key = `${e.object.metadata!.namespace}/${e.object.metadata!.name}`;
    this.uids.set(key, e.object.metadata!.uid!);
    if (e.type === 'DELETED') this.deleted.add(key);
    const status = e.object.status;
    if (!status?.phase) return;
    const seen = this.statuses.get(key) ?? [];
    const last = seen[seen.length - 1];
    if (last && isTerminal(last.phase as Phase) && status.phase !== last.phase) {
      this.problems.push(`${key}: terminal ${last.phase} became ${status.phase}`);
    }
    if (!last || last.phase !== status.phase || last.reason !== status.reason) this.lastChange = Date.now();
    seen.push(status);
    this.statuses.set(key, seen);
  }

  #job(e: WatchEvent<Job>): void {
    const job = e.object;
    const owner = job.metadata?.ownerReferences?.find((o) => o.controller)?.uid ?? '?';
    const name = job.metadata!.name!;
    this.jobs.set(`${job.metadata!.namespace}/${name}`, job);
    const set = this.active.get(owner) ?? new Set<string>();
    if (e.type === 'DELETED' || jobFinished(job) !== undefined) set.delete(name);
    else set.add(name);
    this.active.set(owner, set);
    if (set.size > 1) this.problems.push(`Session ${owner} has two active Jobs: ${[...set].join(', ')}`);
    this.lastChange = Date.now();
  }

  async #follow<T extends KubernetesObject>(
    gvk: typeof JOB,
    from: string,
    on: (e: WatchEvent<T>) => void,
  ): Promise<void> {
    let rv = from;
    while (!ac.signal.aborted) {
      try {
        for await (const e of client.watch<T>(gvk, { resourceVersion: rv, signal: ac.signal })) {
          if (e.type === 'BOOKMARK') continue;
          rv = e.object.metadata!.resourceVersion!;
          on(e);
        }
      } catch (err) {
        if (ac.signal.aborted) return;
        throw err;
      }
    }
  }
}

/**
 * The Job controller and kubelet, played. Each Job's fate is drawn from the seed and the Job's
 * name (not the order Jobs appear in, which timing decides), and from the third attempt on
 * every Job completes: the world cooperates in the end, so every Session can finish.
 */
class World {
  readonly #seed: number;
  #queue: Promise<void> = Promise.resolve();
  readonly errors: unknown[] = [];
  pending = 0;

  constructor(seed: number) {
    this.#seed = seed;
  }

  onJob(job: Job): void {
    const name = job.metadata!.name!;
    const draw = createHash('sha256').update(`${this.#seed}/${name}`).digest();
    const attempt = Number(job.metadata?.labels?.[LABEL_ATTEMPT] ?? 1);
    const f: Fate =
      attempt >= 3 ? 'complete' : fc.sample(fate, { seed: draw.readInt32LE(0), numRuns: 1 })[0]!;
    const exitCode = 1 + (draw[4]! % 255);
    this.pending++;
    this.#queue = this.#queue
      .then(() => this.#act(job, f, exitCode))
      .catch((err: unknown) => {
        // The Session (and so its Job) may be gone by now: fine. Anything else is the test's bug.
        if (!isStatusError(err) || (!isNotFound(err) && err.status !== 409)) this.errors.push(err);
      })
      .finally(() => this.pending--);
  }

  async #act(job: Job, f: Fate, exitCode: number): Promise<void> {
    const ns = job.metadata!.namespace!;
    const name = job.metadata!.name!;
    if (f === 'starting') return;
    if (f === 'delete') {
      await client.delete(JOB, { namespace: ns, name }, { propagationPolicy: 'Background' });
      return;
    }
    const labels = job.spec?.template?.metadata?.labels ?? {};
    const pod = `${name}-p`;
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: ns,
        name: pod,
        labels: {
          [LABEL_SESSION]: labels[LABEL_SESSION]!,
          [LABEL_ATTEMPT]: labels[LABEL_ATTEMPT]!,
          'app.kubernetes.io/managed-by': 'steward',
        },
        annotations: { [ANNOTATION_SESSION]: job.metadata!.annotations![ANNOTATION_SESSION]! },
      },
      spec: { containers: [{ name: 'session', image: 'runner:test' }] },
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const base = { name: 'session', image: 'runner:test', imageID: '', restartCount: 0 };
    const code = f === 'complete' ? 0 : exitCode;
    const state =
      f === 'running'
        ? { running: { startedAt: now } }
        : {
            terminated: {
              exitCode: code,
              reason: code ? 'Error' : 'Completed',
              startedAt: now,
              finishedAt: now,
            },
          };
    const phase = f === 'running' ? 'Running' : code ? 'Failed' : 'Succeeded';
    await client.patchStatus(
      POD,
      { namespace: ns, name: pod },
      {
        type: 'merge',
        body: {
          status: {
            phase,
            containerStatuses: [{ ...base, ready: f === 'running', started: f === 'running', state }],
          },
        },
      },
    );
    if (f !== 'running')
      await finishJob(client, { namespace: ns, name }, f === 'complete' ? 'Complete' : 'Failed');
  }
}

/** Sums the samples of `metric` in Prometheus text, optionally only those whose labels match. */
function sum(text: string, metric: string, labels = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (labels && !line.includes(labels)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(): Promise<string[]> {
  return Promise.all(operators.map((op) => op.mgr.registry.metrics()));
}

test(`${EDGE_SPECS.length} edge and ${COUNT} fuzzed Sessions (seed ${SEED}): each gets a phase with a reason, and the operator goes quiet`, async () => {
  const observer = new Observer();
  const world = new World(SEED);
  await observer.start((job) => world.onJob(job));

  const specs = [...EDGE_SPECS, ...fc.sample(sessionSpec, { seed: SEED, numRuns: COUNT })];
  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  for (const [i, spec] of specs.entries()) {
    const name = fc.sample(sessionName(i), { seed: SEED + i, numRuns: 1 })[0]!;
    const ns = i % 2 === 0 ? SAFE : OPEN;
    try {
      await client.create({
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        metadata: { namespace: ns, name },
        spec,
      });
      accepted.push(`${ns}/${name}`);
    } catch (err) {
      if (!isStatusError(err) || err.status !== 422) throw err;
      const why = /: (spec[^:]*):/.exec(err.message)?.[1] ?? err.message.slice(0, 60);
      refused[why] = (refused[why] ?? 0) + 1;
    }
  }
  // Most specs must get through, or the fuzzing tests the schema more than the operator.
  expect(accepted.length).toBeGreaterThan(specs.length * 0.7);

  const unsettled = () =>
    accepted.filter((key) => {
      const seen = observer.statuses.get(key);
      const last = seen?.[seen.length - 1];
      return !last?.phase || !last.reason;
    });
  await waitFor(() => unsettled().length === 0, {
    description: 'every accepted Session with a phase and a reason',
    timeoutMs: 60_000,
    intervalMs: 200,
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${unsettled().slice(0, 10).join(', ')}`);
  });
  // Settled: the world has nothing left to do and nothing changed for a few seconds.
  await waitFor(() => world.pending === 0 && Date.now() - observer.lastChange > 3_000, {
    description: 'the world quiet',
    timeoutMs: 60_000,
    intervalMs: 200,
  });

  // A quiet window: the operator may wake for the deadlines it set, but must not spin.
  const before = await scrape();
  const windowStart = Date.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const after = await scrape();
  const live = accepted.filter((key) => {
    const seen = observer.statuses.get(key);
    return !observer.deleted.has(key) && !isTerminal(seen?.[seen.length - 1]?.phase as Phase);
  });
  const reconciles = after.map(
    (a, i) =>
      sum(a, 'controller_runtime_reconcile_total', 'controller="session"') -
      sum(before[i]!, 'controller_runtime_reconcile_total', 'controller="session"'),
  );
  const total = reconciles.reduce((a, b) => a + b, 0);
  const seconds = (Date.now() - windowStart) / 1000;
  expect({ reconcilesPerSecond: total / seconds < 2 + live.length / 5 }).toEqual({
    reconcilesPerSecond: true,
  });

  // No reconcile failed (a status write refused for its content would show here), nothing
  // the operator logged at warn or above but the expected.
  for (const text of after) {
    expect(sum(text, 'controller_runtime_reconcile_errors_total', 'controller="session"')).toBe(0);
    expect(sum(text, 'controller_runtime_reconcile_panics_total', 'controller="session"')).toBe(0);
  }
  expect(logLines.filter((l) => /"level":"error"/.test(l))).toEqual([]);
  expect(observer.problems).toEqual([]);
  expect(world.errors).toEqual([]);

  // Terminal Sessions keep no active Job.
  for (const key of accepted) {
    const seen = observer.statuses.get(key);
    if (!isTerminal(seen?.[seen.length - 1]?.phase as Phase)) continue;
    const active = observer.active.get(observer.uids.get(key) ?? '') ?? new Set();
    expect({ key, active: [...active] }).toEqual({ key, active: [] });
  }

  // No object names in any label of any metric the operator exposes.
  const names = new Set<string>();
  for (const key of accepted) {
    names.add(key.split('/')[1]!);
    names.add(key);
  }
  for (const key of observer.jobs.keys()) {
    names.add(key.split('/')[1]!);
    names.add(key);
  }
  for (const text of after) {
    for (const m of text.matchAll(/="((?:[^"\\]|\\.)*)"/g)) {
      expect(names.has(m[1]!) ? `label value ${m[1]} is an object name` : '').toBe('');
    }
  }

  const phases: Record<string, number> = {};
  for (const key of accepted) {
    const seen = observer.statuses.get(key);
    const last = seen?.[seen.length - 1];
    const k = `${last?.phase}/${last?.reason}`;
    phases[k] = (phases[k] ?? 0) + 1;
  }
  // For the log of a failure (and for a by-hand run's record).
  console.log(
    JSON.stringify({ seed: SEED, accepted: accepted.length, refused, phases, reconciles: total, seconds }),
  );
}, 240_000);
