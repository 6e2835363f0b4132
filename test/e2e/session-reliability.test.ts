// The Session defects of issue 11 that need a whole cluster, and the failure classes of issue
// 12, on kwok: the real job controller, TTL-after-finished controller, garbage collector,
// ResourceQuota controller and scheduler, with the operator as a real process; kwok's stages
// evict, OOM-kill and fail image pulls as lib/testing/kwok.ts describes. Each Session's phases and Jobs are recorded from watches, so a
// Session deleted by its TTL still tells how it ended.
import { join } from 'node:path';
import { jobName } from '../../controllers/session/index.js';
import { KubeClient, type KubernetesObject, type WatchEvent } from '../../lib/index.js';
import {
  type ControlPlane,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_FAILURE_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  installCRDs,
  startControlPlane,
  waitFor,
  waitForEvents,
} from '../../lib/testing/index.js';
import { type OperatorProcess, ROOT, startOperator } from './operator.js';

const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const QUOTA = { group: '', version: 'v1', kind: 'ResourceQuota' };
const N = 40;
/** The e2e tenant policy: the defaults, plus the nodeSelector an unschedulable pod uses. */
const POLICY = ['--tenant-policy', join(ROOT, 'test', 'e2e', 'tenant-policy.yaml')];

interface SessionObj extends KubernetesObject {
  status?: { phase?: string; attempt?: number; reason?: string; message?: string; exitCode?: number };
}
interface JobObj extends KubernetesObject {
  status?: { completionTime?: string; conditions?: Array<{ type: string; status: string }> };
}

let cp: ControlPlane;
let client: KubeClient;
const ac = new AbortController();

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 2 } });
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  // Both CRDs: the operator runs both controllers by default and refuses to start without either.
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
  ]);
});
afterAll(async () => {
  ac.abort();
  client?.close();
  await cp?.stop();
});

function spec(runSeconds: number, extra: Record<string, unknown> = {}) {
  return {
    template: {
      image: 'busybox:1.36',
      annotations: { [FAKE_EXIT_CODE_ANNOTATION]: '0', [FAKE_RUN_SECONDS_ANNOTATION]: String(runSeconds) },
    },
    ...extra,
  };
}

async function createNamespace(name: string): Promise<void> {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function create(ns: string, name: string, s: object): Promise<void> {
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: ns, name },
    spec: s,
  });
}

/**
 * Everything that happens to the Sessions and Jobs of a namespace, from watches started before
 * the first object: each Session's last status (kept after its deletion) and every Job ever added.
 */
class Recorder {
  readonly last = new Map<string, SessionObj['status']>();
  readonly deleted = new Set<string>();
  readonly jobs = new Set<string>();
  readonly #ns: string;

  constructor(ns: string) {
    this.#ns = ns;
  }

  async start(): Promise<void> {
    const [sessions, jobs] = await Promise.all([
      client.list(SESSION, { namespace: this.#ns }),
      client.list(JOB, { namespace: this.#ns }),
    ]);
    void this.#follow<SessionObj>(SESSION, sessions.metadata.resourceVersion!, (e) => {
      const name = e.object.metadata!.name!;
      if (e.object.status) this.last.set(name, e.object.status);
      if (e.type === 'DELETED') this.deleted.add(name);
    });
    void this.#follow<JobObj>(JOB, jobs.metadata.resourceVersion!, (e) => {
      if (e.type === 'ADDED') this.jobs.add(e.object.metadata!.name!);
    });
  }

  async #follow<T extends KubernetesObject>(
    gvk: typeof JOB,
    from: string,
    on: (e: WatchEvent<T>) => void,
  ): Promise<void> {
    let rv = from;
    while (!ac.signal.aborted) {
      try {
        for await (const e of client.watch<T>(gvk, {
          namespace: this.#ns,
          resourceVersion: rv,
          signal: ac.signal,
        })) {
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

  phases(names: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of names) {
      const key = `${this.last.get(n)?.phase}/${this.last.get(n)?.attempt}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }
}

describe('ttlSecondsAfterFinished never loses a result', () => {
  let op: OperatorProcess | undefined;
  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  test(`TTL 0 with the operator running: ${N} of ${N} Succeeded with exactly one Job each`, async () => {
    const ns = 'ttl-zero';
    await createNamespace(ns);
    const rec = new Recorder(ns);
    await rec.start();
    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
    const names = Array.from({ length: N }, (_, i) => `z${i}`);
    const s = spec(1, { ttlSecondsAfterFinished: 0, retry: { limit: 1, backoff: { initialSeconds: 1 } } });
    await Promise.all(names.map((n) => create(ns, n, s)));
    await waitFor(() => names.every((n) => rec.deleted.has(n)), {
      description: `all ${N} Sessions finished and deleted by their TTL`,
      timeoutMs: 180_000,
      intervalMs: 250,
    });
    expect(rec.phases(names)).toEqual({ [`Succeeded/1`]: N });
    expect([...rec.jobs].sort()).toEqual(names.map((n) => jobName(n, 1)).sort());
  });

  test(`TTL 5 s, the operator down while the pods finish and 5 s more pass: no re-run, ${N} results recorded`, async () => {
    const ns = 'ttl-down';
    await createNamespace(ns);
    const rec = new Recorder(ns);
    await rec.start();
    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
    const names = Array.from({ length: N }, (_, i) => `d${i}`);
    const s = spec(10, { ttlSecondsAfterFinished: 5, retry: { limit: 1, backoff: { initialSeconds: 1 } } });
    await Promise.all(names.map((n) => create(ns, n, s)));
    // Stop the operator once every pod runs (a Session whose pod ended first may have finished).
    await waitFor(() => names.every((n) => ['Running', 'Succeeded'].includes(rec.last.get(n)?.phase ?? '')), {
      description: `all ${N} Sessions Running`,
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    expect(await op.stop()).toBe(0);
    const runningAtStop = names.filter((n) => rec.last.get(n)?.phase === 'Running').length;
    expect(runningAtStop).toBeGreaterThan(N / 2);
    op = undefined;
    // With the operator down, every pod finishes and its Job completes...
    const done = await waitFor(
      async () => {
        const jobs = (await client.list<JobObj>(JOB, { namespace: ns })).items;
        const complete = jobs.filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete'));
        return complete.length === N ? complete : undefined;
      },
      { description: `all ${N} Jobs complete`, timeoutMs: 120_000, intervalMs: 250 },
    );
    // ...and the Session's TTL (were it on the Jobs) passes, with 3 s to spare. This waits on
    // the clock on purpose: what is tested is that nothing happens meanwhile.
    const ttlOver = Math.max(...done.map((j) => Date.parse(j.status!.completionTime!))) + 8_000;
    await waitFor(() => Date.now() > ttlOver, {
      description: 'the TTL passed',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect((await client.list(JOB, { namespace: ns })).items).toHaveLength(N);

    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
    await waitFor(() => names.every((n) => rec.deleted.has(n)), {
      description: `all ${N} Sessions recorded and deleted by their TTL`,
      timeoutMs: 180_000,
      intervalMs: 250,
    });
    expect(rec.phases(names)).toEqual({ [`Succeeded/1`]: N });
    expect([...rec.jobs].sort()).toEqual(names.map((n) => jobName(n, 1)).sort());
  });
});

describe('a pod gone before the operator saw how it ended', () => {
  test('operator down, the failed pod deleted: the exit code is still recorded (from the Job) and retried on', async () => {
    const ns = 'pod-gone';
    await createNamespace(ns);
    let op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
    const s = spec(2, { retry: { limit: 1, onExitCodes: [3], backoff: { initialSeconds: 1 } } });
    (s.template.annotations as Record<string, string>)[FAKE_EXIT_CODE_ANNOTATION] = '3,0';
    await create(ns, 'gone', s);
    await waitFor(
      async () =>
        (await client.get<SessionObj>(SESSION, { namespace: ns, name: 'gone' })).status?.phase === 'Running',
      {
        description: 'Running',
        timeoutMs: 60_000,
      },
    );
    expect(await op.stop()).toBe(0);
    await waitFor(
      async () =>
        (await client.get<JobObj>(JOB, { namespace: ns, name: 'gone-1' })).status?.conditions?.some(
          (c) => c.type === 'Failed' && c.status === 'True',
        ),
      { description: 'the Job Failed', timeoutMs: 60_000, intervalMs: 200 },
    );
    const POD = { group: '', version: 'v1', kind: 'Pod' };
    for (const p of (await client.list(POD, { namespace: ns, labelSelector: { 'job-name': 'gone-1' } }))
      .items) {
      await client.delete(POD, { namespace: ns, name: p.metadata!.name! }, { gracePeriodSeconds: 0 });
    }
    await waitFor(async () => (await client.list(POD, { namespace: ns })).items.length === 0, {
      description: 'the pod gone',
      timeoutMs: 30_000,
    });
    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
    try {
      const done = await waitFor(
        async () => {
          const x = await client.get<
            SessionObj & { status?: { history?: Array<{ class?: string; exitCode?: number }> } }
          >(SESSION, { namespace: ns, name: 'gone' });
          return ['Succeeded', 'Failed'].includes(x.status?.phase ?? '') ? x : undefined;
        },
        { description: 'terminal', timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(done.status).toMatchObject({ phase: 'Succeeded', attempt: 2 });
      expect(done.status!.history?.[0]).toMatchObject({ class: 'ExitCode', exitCode: 3 });
    } finally {
      expect(await op.stop()).toBe(0);
    }
  });
});

describe('quotas', () => {
  let op: OperatorProcess;
  const ns = 'quota';
  beforeAll(async () => {
    await createNamespace(ns);
    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
  });
  afterAll(async () => {
    expect(await op.stop()).toBe(0);
  });

  async function quota(name: string, hard: Record<string, string>): Promise<void> {
    await client.create({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { namespace: ns, name },
      spec: { hard },
    });
    // Until the ResourceQuota controller has computed its usage, admission refuses everything.
    await waitFor(
      async () => {
        const q = await client.get<KubernetesObject & { status?: { used?: object } }>(QUOTA, {
          namespace: ns,
          name,
        });
        return q.status?.used !== undefined;
      },
      { description: `quota ${name} computed`, intervalMs: 100 },
    );
  }

  const session = (name: string) => client.get<SessionObj>(SESSION, { namespace: ns, name });

  test('count/jobs.batch: 0 → Pending/JobCreateFailed with the quota’s message and an event; runs once lifted', async () => {
    await quota('no-jobs', { 'count/jobs.batch': '0' });
    await create(ns, 'blocked', spec(0));
    const pending = await waitFor(
      async () => {
        const s = await session('blocked');
        return s.status?.reason === 'JobCreateFailed' ? s : undefined;
      },
      { description: 'Pending/JobCreateFailed', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(pending.status).toMatchObject({ phase: 'Pending', attempt: 0 });
    expect(pending.status!.message).toMatch(/exceeded quota: no-jobs/);
    // The event is recorded after the status write, in the background: wait for it, then check
    // that the refusals retried since were folded into that one Event.
    const events = await waitForEvents(client, ns, 'blocked', ['JobCreateFailed']);
    expect(events.filter((e) => e.reason === 'JobCreateFailed')).toEqual([
      expect.objectContaining({ type: 'Warning' }),
    ]);
    await client.delete(QUOTA, { namespace: ns, name: 'no-jobs' });
    await waitFor(async () => (await session('blocked')).status?.phase === 'Succeeded', {
      description: 'Succeeded once the quota is gone',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
  });

  test('pods: 0 → the Job’s FailedCreate shows while Starting, before the start timeout ends it', async () => {
    await quota('no-pods', { pods: '0' });
    await create(ns, 'podless', spec(0, { startTimeoutSeconds: 20 }));
    const starting = await waitFor(
      async () => {
        const s = await session('podless');
        return s.status?.reason === 'FailedCreate' ? s : undefined;
      },
      { description: 'Starting/FailedCreate', timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(starting.status).toMatchObject({ phase: 'Starting', attempt: 1 });
    expect(starting.status!.message).toMatch(
      /Job podless-1 cannot create the pod of attempt 1: .*exceeded quota: no-pods/,
    );
    const timedOut = await waitFor(
      async () => {
        const s = await session('podless');
        return s.status?.phase === 'TimedOut' ? s : undefined;
      },
      { description: 'TimedOut', timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(timedOut.status).toMatchObject({ reason: 'StartTimeout' });
    expect(timedOut.status!.message).toMatch(/within 20s: .*exceeded quota: no-pods/);
    await client.delete(QUOTA, { namespace: ns, name: 'no-pods' });
  });
});

describe('failure classes on kwok', () => {
  let op: OperatorProcess;
  const ns = 'classes';
  beforeAll(async () => {
    await createNamespace(ns);
    op = startOperator(cp.kubeconfigPath, ['--namespace', ns, ...POLICY]);
  });
  afterAll(async () => {
    expect(await op.stop()).toBe(0);
  });

  interface Classified extends SessionObj {
    metadata: KubernetesObject['metadata'] & { creationTimestamp?: string };
    status?: SessionObj['status'] & {
      completionTime?: string;
      ignoredFailures?: number;
      history?: Array<{ attempt: number; class?: string; exitCode?: number; reason: string }>;
    };
  }
  const terminal = (name: string, timeoutMs = 90_000) =>
    waitFor(
      async () => {
        const s = await client.get<Classified>(SESSION, { namespace: ns, name });
        return ['Succeeded', 'Failed', 'TimedOut', 'Cancelled'].includes(s.status?.phase ?? '')
          ? s
          : undefined;
      },
      { description: `Session ${name} terminal`, timeoutMs, intervalMs: 200 },
    );
  const failing = (failure: string, extra: Record<string, unknown> = {}) => {
    const s = spec(0, extra);
    (s.template.annotations as Record<string, string>)[FAKE_FAILURE_ANNOTATION] = failure;
    return s;
  };
  const jobsOf = async (name: string) =>
    (await client.list(JOB, { namespace: ns, labelSelector: { 'steward.dev/session': name } })).items
      .map((j) => j.metadata!.name!)
      .sort();

  test('eviction: retried although onExitCodes does not list its exit code; the history shows why', async () => {
    await create(
      ns,
      'evicted',
      failing('Evicted,none', { retry: { limit: 1, onExitCodes: [75], backoff: { initialSeconds: 1 } } }),
    );
    const s = await terminal('evicted');
    expect(s.status).toMatchObject({ phase: 'Succeeded', attempt: 2, exitCode: 0 });
    expect(s.status!.history).toEqual([
      expect.objectContaining({ attempt: 1, class: 'Evicted', exitCode: 137, reason: 'Evicted' }),
      expect.objectContaining({ attempt: 2, reason: 'Completed', exitCode: 0 }),
    ]);
    expect(await jobsOf('evicted')).toEqual(['evicted-1', 'evicted-2']);
  });

  test('preemption with ignoreDisruptions: retried with limit 0, not counted', async () => {
    await create(
      ns,
      'preempted',
      failing('Preempted,none', {
        retry: { limit: 0, ignoreDisruptions: true, backoff: { initialSeconds: 1 } },
      }),
    );
    const s = await terminal('preempted');
    expect(s.status).toMatchObject({ phase: 'Succeeded', attempt: 2, ignoredFailures: 1 });
    expect(s.status!.history?.[0]).toMatchObject({ class: 'Preempted' });
  });

  test('OOMKilled: Failed with that reason and exit code 137', async () => {
    await create(ns, 'oom', failing('OOMKilled'));
    const s = await terminal('oom');
    expect(s.status).toMatchObject({ phase: 'Failed', reason: 'OOMKilled', exitCode: 137, attempt: 1 });
    expect(s.status!.history).toEqual([expect.objectContaining({ class: 'OOMKilled', exitCode: 137 })]);
  });

  test('an image that cannot be pulled fails fast as ImagePull, long before the start timeout', async () => {
    await create(ns, 'pull', failing('ImagePull', { imagePullGraceSeconds: 2, startTimeoutSeconds: 600 }));
    const s = await terminal('pull');
    expect(s.status).toMatchObject({ phase: 'Failed', reason: 'ImagePull', attempt: 1 });
    expect(s.status!.message).toMatch(/cannot be pulled: ErrImagePull: failed to pull and unpack image/);
    const took = Date.parse(s.status!.completionTime!) - Date.parse(s.metadata!.creationTimestamp!);
    expect(took).toBeLessThan(60_000);
    // The operator failed the attempt while its Job ran: the Job is deleted.
    await waitFor(async () => (await jobsOf('pull')).length === 0, { description: 'the Job deleted' });
  });

  test('an unschedulable pod is reported while Starting, then the start timeout records it', async () => {
    const s0 = spec(0, { startTimeoutSeconds: 15 });
    await create(ns, 'nowhere', {
      ...s0,
      template: { ...s0.template, nodeSelector: { 'no-such-label': 'x' } },
    });
    const starting = await waitFor(
      async () => {
        const s = await client.get<Classified>(SESSION, { namespace: ns, name: 'nowhere' });
        return s.status?.reason === 'Unschedulable' ? s : undefined;
      },
      { description: 'Starting/Unschedulable', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(starting.status).toMatchObject({ phase: 'Starting' });
    expect(starting.status!.message).toMatch(/cannot be scheduled: 0\/2 nodes are available/);
    const s = await terminal('nowhere');
    expect(s.status).toMatchObject({ phase: 'TimedOut', reason: 'StartTimeout' });
    expect(s.status!.history).toEqual([
      expect.objectContaining({ class: 'Unschedulable', reason: 'StartTimeout' }),
    ]);
  });
});
