// Regression tests for the Session defects of issue 11, one describe per defect, on the fake
// client (whose status writes are checked against the CRD's status schema, as the API server
// does). The kwok-cluster halves of these (TTL, quota) are in test/e2e/session-reliability.test.ts.
import {
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidError,
  type KubernetesObject,
} from '../../../lib/index.js';
import { Registry } from 'prom-client';
import {
  ANNOTATION_SESSION,
  jobName,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  POD_GVK,
  type Session,
  SESSION_GVK,
} from '../../../controllers/session/index.js';
import { MAX_MESSAGE_LENGTH, MAX_SECONDS } from '../../../controllers/session/bounds.js';
import { Harness } from './harness.js';

const SPEC = { template: { image: 'busybox', command: ['echo', 'hi'] } };
const MAX_TIMER_MS = 2 ** 31 - 1;

const cancel = (h: Harness, name: string) =>
  h.client.patch(SESSION_GVK, { namespace: 'ns', name }, { type: 'merge', body: { spec: { cancel: true } } });

describe('1. the Session TTL never reaches the Job', () => {
  test('the Job has no ttlSecondsAfterFinished: only the Session’s own deletion removes it', async () => {
    const h = new Harness();
    await h.create('t', { ...SPEC, ttlSecondsAfterFinished: 0 });
    await h.reconcile('t');
    expect((await h.job('t', 1)).spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });
});

describe('2. every string written to status fits the schema', () => {
  test('a 100 KB rejection message ends Failed/JobRejected with the message truncated', async () => {
    const h = new Harness();
    const huge = 'spec.template.spec.containers[0].env[0].name: Invalid value: "a=b"; '.repeat(1_500);
    h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Job'
        ? new InvalidError({ status: 422, reason: 'Invalid', message: huge })
        : undefined,
    );
    await h.create('big', SPEC);
    expect(await h.reconcile('big')).toBeUndefined();
    const s = (await h.session('big')).status!;
    expect(s).toMatchObject({ phase: 'Failed', reason: 'JobRejected' });
    expect(s.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(s.message).toMatch(/^The API server rejected Job big-1 of attempt 1: spec\.template/);
    expect(s.message).toMatch(/characters truncated\]$/);
    for (const c of s.conditions!) expect(c.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  });

  // A Session stored within a few KB of etcd's limit (env values have no length bound).
  const tooLarge = (what: string) =>
    new InternalError({ status: 500, reason: '', message: `${what}: etcdserver: request is too large` });

  test('no room for the status: the smallest terminal one is recorded, and the Job goes', async () => {
    const h = new Harness();
    const patchStatus = h.client.patchStatus.bind(h.client);
    // Only a write without conditions is small enough.
    h.client.patchStatus = ((gvk, key, patch, opts) => {
      const status = (patch as { body?: { status?: { conditions?: unknown } } }).body?.status;
      if (gvk.kind === 'Session' && status?.conditions !== null) throw tooLarge('PATCH');
      return patchStatus(gvk, key, patch, opts);
    }) as typeof h.client.patchStatus;
    await h.create('full', SPEC);
    await h.reconcile('full');
    const s = (await h.session('full')).status!;
    expect(s).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec', attempt: 1 });
    expect(s.message).toMatch(/^Cannot record the Session's progress: the Session is too large/);
    expect(s.completionTime).toBeDefined();
    // The Job created before the write was refused does not run on.
    await h.reconcile('full');
    expect((await h.jobs()).filter((j) => !j.metadata?.deletionTimestamp)).toHaveLength(0);
  });

  test('a Job too large to store is JobRejected at once, not retried as a passing refusal', async () => {
    const h = new Harness();
    h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Job'
        ? tooLarge('POST /apis/batch/v1/namespaces/ns/jobs')
        : undefined,
    );
    await h.create('bigjob', { ...SPEC, retry: { limit: 3 } });
    expect(await h.reconcile('bigjob')).toBeUndefined();
    expect((await h.session('bigjob')).status).toMatchObject({ phase: 'Failed', reason: 'JobRejected' });
  });

  test('a pod’s long termination message is truncated too', async () => {
    const h = new Harness();
    await h.create('m', SPEC);
    await h.reconcile('m');
    await h.pod('m', 1, { exitCode: 2, reason: 'Error', message: 'x'.repeat(50_000) });
    await h.finishJob('m', 1, 'Failed', 'BackoffLimitExceeded');
    await h.reconcile('m');
    const s = (await h.session('m')).status!;
    expect(s).toMatchObject({ phase: 'Failed', exitCode: 2 });
    expect(s.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  });
});

describe('3. no active Job outlives a terminal phase', () => {
  test('cancel landing while the creating reconcile writes status: the new Job is deleted', async () => {
    const h = new Harness();
    await h.create('race', SPEC);
    let raced = false;
    h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Session' && !raced) {
        raced = true;
        // The user's cancel lands between the Job's creation and this status write.
        void cancel(h, 'race');
        return new ConflictError({
          status: 409,
          reason: 'Conflict',
          message: 'the object has been modified',
        });
      }
    });
    expect(await h.reconcile('race')).toEqual({ requeue: true });
    expect(await h.activeJobs()).toEqual(['race-1']);
    await h.reconcile('race');
    expect((await h.session('race')).status).toMatchObject({ phase: 'Cancelled' });
    expect(await h.activeJobs()).toEqual([]);
  });

  test('a terminal Session deletes an active Job of its own that shows up later', async () => {
    const h = new Harness();
    await h.create('late', { ...SPEC, cancel: true });
    await h.reconcile('late');
    expect((await h.session('late')).status?.phase).toBe('Cancelled');
    // A Job created by an earlier reconcile whose write the cache had not shown yet.
    const s = await h.session('late');
    await h.client.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        namespace: 'ns',
        name: jobName('late', 1),
        labels: { 'steward.dev/session': 'late', 'steward.dev/attempt': '1' },
        ownerReferences: [
          {
            apiVersion: 'steward.dev/v1alpha1',
            kind: 'Session',
            name: 'late',
            uid: s.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: {},
    });
    await h.reconcile('late');
    expect(await h.activeJobs()).toEqual([]);
  });
});

describe('4. exit codes are never decided from a pod cache that lags', () => {
  test('Job Failed, cached pod still running: the exit code is read from the API and retried on', async () => {
    const h = new Harness();
    await h.create('lag', {
      ...SPEC,
      retry: { limit: 1, onExitCodes: [75], backoff: { initialSeconds: 0 } },
    });
    await h.reconcile('lag');
    await h.pod('lag', 1, 'running');
    await h.reconcile('lag');
    h.stalePods = await h.podsOf('lag', 1);
    await h.pod('lag', 1, { exitCode: 75 });
    await h.finishJob('lag', 1, 'Failed', 'BackoffLimitExceeded');
    await h.reconcile('lag');
    const s = (await h.session('lag')).status!;
    expect(s).toMatchObject({ exitCode: 75 });
    expect(['Pending', 'Starting']).toContain(s.phase);
    expect(s.attempt).toBeGreaterThanOrEqual(1);
  });
});

describe('4b. only the pods of the attempt’s own Job count', () => {
  // A Session deleted and created again under its name: the old Job's pods, still waiting for
  // the garbage collector, carry the same session and attempt labels as the new Job's.
  async function oldPod(h: Harness, state: 'running' | { exitCode: number }) {
    const old = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: 'again-1',
      uid: 'old-job-uid',
      controller: true,
    };
    await h.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: 'ns',
        name: 'again-1-old',
        labels: { [LABEL_SESSION]: 'again', [LABEL_ATTEMPT]: '1' },
        annotations: { [ANNOTATION_SESSION]: 'again' },
        ownerReferences: [old],
      },
      spec: { containers: [{ name: 'session', image: 'x' }] },
    });
    const at = new Date(h.clock.now()).toISOString();
    const status =
      state === 'running'
        ? {
            phase: 'Running',
            containerStatuses: [{ name: 'session', state: { running: { startedAt: at } } }],
          }
        : {
            phase: 'Failed',
            containerStatuses: [
              {
                name: 'session',
                state: { terminated: { exitCode: state.exitCode, reason: 'Error', startedAt: at } },
              },
            ],
          };
    await h.client.patchStatus(
      POD_GVK,
      { namespace: 'ns', name: 'again-1-old' },
      { type: 'merge', body: { status } },
    );
  }

  test('the old Job’s running pod does not make the new attempt Running', async () => {
    const h = new Harness();
    await h.create('again', SPEC);
    await h.reconcile('again');
    await oldPod(h, 'running');
    await h.reconcile('again');
    expect((await h.session('again')).status?.phase).toBe('Starting');
  });

  test('the old Job’s failed pod does not give the new, completed attempt its exit code', async () => {
    const h = new Harness();
    await h.create('again', SPEC);
    await h.reconcile('again');
    await oldPod(h, { exitCode: 9 });
    await h.finishJob('again', 1, 'Complete');
    await h.reconcile('again');
    expect((await h.session('again')).status).toMatchObject({ phase: 'Succeeded', exitCode: 0 });
  });
});

describe('5. a timeout is recorded before the Job is deleted', () => {
  test('the TimedOut write fails once: the Job is still there, the retry records TimedOut (not JobDeleted)', async () => {
    const h = new Harness();
    await h.create('t', { ...SPEC, startTimeoutSeconds: 10, retry: { limit: 3 } });
    await h.reconcile('t');
    h.clock.step(10_000);
    let failed = false;
    h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Session' && !failed) {
        failed = true;
        return new InternalError({ status: 500, reason: 'InternalError', message: 'etcd timeout' });
      }
    });
    await expect(h.reconcile('t')).rejects.toThrow(/etcd timeout/);
    expect(await h.jobs()).toHaveLength(1);
    await h.reconcile('t');
    expect((await h.session('t')).status).toMatchObject({ phase: 'TimedOut', reason: 'StartTimeout' });
    expect(await h.activeJobs()).toEqual([]);
  });
});

describe('6. a Job the API refuses to create (quota) is reported, and retried with backoff', () => {
  const quota = (name: string) =>
    new ForbiddenError({
      status: 403,
      reason: 'Forbidden',
      message: `jobs.batch "${name}-1" is forbidden: exceeded quota: q, requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0`,
    });

  test('Pending with JobCreateFailed, the API’s message and an event; then the Job once the quota allows', async () => {
    const h = new Harness();
    const remove = h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Job' ? quota('q') : undefined,
    );
    await h.create('q', { ...SPEC, startTimeoutSeconds: 3600 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await h.reconcile('q');
      delays.push((r as { requeueAfterMs: number }).requeueAfterMs);
      h.clock.step(delays[i]!);
    }
    const s = (await h.session('q')).status!;
    expect(s).toMatchObject({ phase: 'Pending', reason: 'JobCreateFailed', attempt: 0 });
    expect(s.message).toContain('exceeded quota');
    expect(h.events.filter((e) => e.reason === 'JobCreateFailed')[0]).toMatchObject({ type: 'Warning' });
    // Backoff: each wait at least as long as the one before, growing.
    expect(delays[4]!).toBeGreaterThan(delays[0]!);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    remove();
    await h.reconcile('q');
    expect((await h.session('q')).status).toMatchObject({ phase: 'Starting', attempt: 1 });
  });

  test('a quota that never lifts ends at the start timeout, with the API’s message', async () => {
    const h = new Harness();
    h.client.prependReactor((a) => (a.verb === 'create' && a.gvk.kind === 'Job' ? quota('n') : undefined));
    await h.create('n', { ...SPEC, startTimeoutSeconds: 60 });
    for (let i = 0; i < 50 && (await h.session('n')).status?.phase !== 'TimedOut'; i++) {
      const r = await h.reconcile('n');
      const wait = (r as { requeueAfterMs?: number } | undefined)?.requeueAfterMs ?? 0;
      expect(wait).toBeLessThanOrEqual(60_000);
      h.clock.step(wait);
    }
    const s = (await h.session('n')).status!;
    expect(s).toMatchObject({ phase: 'TimedOut', reason: 'StartTimeout' });
    expect(s.message).toContain('exceeded quota');
  });

  test('pods the Job cannot create: its FailedCreate event shows in the Session before the timeout', async () => {
    const h = new Harness();
    await h.create('p', { ...SPEC, startTimeoutSeconds: 300 });
    await h.reconcile('p');
    const job = await h.job('p', 1);
    await h.client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'ns', name: 'p-1.1' },
      involvedObject: { kind: 'Job', namespace: 'ns', name: 'p-1', uid: job.metadata!.uid },
      reason: 'FailedCreate',
      type: 'Warning',
      message: 'Error creating: pods "p-1-abcde" is forbidden: exceeded quota: pods, requested: pods=1',
    } as KubernetesObject);
    for (let i = 0; i < 10 && (await h.session('p')).status?.reason !== 'FailedCreate'; i++) {
      const r = (await h.reconcile('p')) as { requeueAfterMs: number };
      expect(r.requeueAfterMs).toBeLessThan(300_000);
      h.clock.step(r.requeueAfterMs);
    }
    const s = (await h.session('p')).status!;
    expect(s).toMatchObject({ phase: 'Starting', reason: 'FailedCreate' });
    expect(s.message).toContain('exceeded quota: pods');
  });

  // Every such check lists events from the API: a fixed 5 s poll for as long as the start
  // timeout allows (up to 2^31−1 s) made 100 Sessions waiting out a pods quota spend the whole
  // default client budget (20 QPS) on it.
  test('a Job that stays podless is checked less and less often, up to every 5 min', async () => {
    const h = new Harness();
    await h.create('w', { ...SPEC, startTimeoutSeconds: 86_400 });
    await h.reconcile('w');
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.step(delays[i - 1] ?? 5_000);
      delays.push(((await h.reconcile('w')) as { requeueAfterMs: number }).requeueAfterMs);
    }
    expect(delays.slice(0, 6)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(delays.slice(7)).toEqual([300_000, 300_000, 300_000, 300_000, 300_000]);
    expect((await h.session('w')).status?.phase).toBe('Starting');
  });
});

describe('7. the stale-cache guard backs off and is counted', () => {
  test('50 ms, then doubling, capped; steward_session_stale_cache_requeues_total counts each', async () => {
    const h = new Harness();
    await h.create('lag', SPEC);
    const registry = new Registry();
    let stale: Session | undefined;
    const r = h.laggingReconciler(() => stale, registry);
    const before = await h.session('lag');
    await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx());
    // The cache keeps showing the version this reconciler's own write replaced.
    stale = before;
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = (await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx())) as {
        requeueAfterMs: number;
      };
      delays.push(res.requeueAfterMs);
    }
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 800]);
    expect(Math.max(...delays)).toBe(5_000);
    expect(delays[11]).toBe(5_000);
    expect(await registry.metrics()).toContain(
      'steward_session_stale_cache_requeues_total{namespace="ns"} 12',
    );
    // Once the cache catches up the Session moves on, and the backoff starts over next time.
    stale = undefined;
    await h.pod('lag', 1, 'running');
    await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx());
    expect((await h.session('lag')).status?.phase).toBe('Running');
  });
});

describe('9. a deeply nested input fails the Session with why', () => {
  test('1,500 levels: Failed/InvalidSpec naming the depth limit, no Job', async () => {
    const h = new Harness();
    let input: unknown = 1;
    for (let i = 0; i < 1_500; i++) input = { a: input };
    await h.create('deep', { ...SPEC, input });
    expect(await h.reconcile('deep')).toBeUndefined();
    const s = (await h.session('deep')).status!;
    expect(s).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(s.message).toMatch(/spec\.input is nested more than 100 levels deep/);
    expect(await h.jobs()).toHaveLength(0);
  });

  test.each([
    ['env[0].valueFrom', (deep: unknown) => ({ env: [{ name: 'A', valueFrom: { fieldRef: deep } }] })],
    ['envFrom[1]', (deep: unknown) => ({ envFrom: [{ prefix: 'P_' }, { configMapRef: deep }] })],
    ['tolerations[0]', (deep: unknown) => ({ tolerations: [{ operator: 'Exists', x: deep }] })],
  ])('a template field nested 1,500 levels (%s): Failed/InvalidSpec naming it, no Job', async (path, at) => {
    const h = new Harness();
    let deep: unknown = 1;
    for (let i = 0; i < 1_500; i++) deep = { a: deep };
    await h.create('deep', { ...SPEC, template: { ...SPEC.template, ...at(deep) } });
    expect(await h.reconcile('deep')).toBeUndefined();
    expect((await h.session('deep')).status).toMatchObject({
      phase: 'Failed',
      reason: 'InvalidSpec',
      message: `spec.template.${path} is nested more than 100 levels deep`,
    });
    expect(await h.jobs()).toHaveLength(0);
  });

  test('an input too large for one environment variable: Failed/InvalidSpec', async () => {
    const h = new Harness();
    await h.create('large', { ...SPEC, input: 'x'.repeat(200_000) });
    await h.reconcile('large');
    expect((await h.session('large')).status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect((await h.session('large')).status?.message).toMatch(/spec\.input is \d+ bytes as JSON/);
  });
});

describe('10. the largest values the schema allows are handled without overflow', () => {
  test('timeouts and TTL of 2^31−1 s: the Job is created, every requeue fits a timer', async () => {
    const h = new Harness();
    await h.create('edge', {
      ...SPEC,
      startTimeoutSeconds: MAX_SECONDS,
      timeoutSeconds: MAX_SECONDS,
      ttlSecondsAfterFinished: MAX_SECONDS,
      retry: { limit: 1, backoff: { initialSeconds: MAX_SECONDS, maxSeconds: MAX_SECONDS } },
    });
    const r1 = (await h.reconcile('edge')) as { requeueAfterMs: number };
    expect((await h.session('edge')).status?.phase).toBe('Starting');
    expect(r1.requeueAfterMs).toBeLessThanOrEqual(MAX_TIMER_MS);
    await h.pod('edge', 1, 'running');
    const r2 = (await h.reconcile('edge')) as { requeueAfterMs: number };
    expect(r2.requeueAfterMs).toBeLessThanOrEqual(MAX_TIMER_MS);
    await h.pod('edge', 1, { exitCode: 1 });
    await h.finishJob('edge', 1, 'Failed');
    const r3 = (await h.reconcile('edge')) as { requeueAfterMs: number };
    expect((await h.session('edge')).status).toMatchObject({ phase: 'Pending', reason: 'RetryBackoff' });
    expect(r3.requeueAfterMs).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  test('one past each bound (for specs that bypassed the schema): InvalidSpec with the bound', async () => {
    const h = new Harness();
    await h.create('over', { ...SPEC, ttlSecondsAfterFinished: MAX_SECONDS + 1 });
    await h.reconcile('over');
    expect((await h.session('over')).status).toMatchObject({
      phase: 'Failed',
      reason: 'InvalidSpec',
      message: 'spec.ttlSecondsAfterFinished must be an integer from 0 to 2147483647',
    });
    await h.create('huge', { ...SPEC, timeoutSeconds: 2 ** 53 + 2 });
    await h.reconcile('huge');
    expect((await h.session('huge')).status?.message).toBe(
      'spec.timeoutSeconds must be an integer from 1 to 2147483647',
    );
  });
});
