import { InvalidError, isNotFound } from '../../../lib/index.js';
import { JOB_GVK, jobName, type Session, SESSION_GVK } from '../../../controllers/session/index.js';
import { Harness } from './harness.js';

const SPEC = { template: { image: 'busybox', command: ['echo', 'hi'] }, input: { task: 'x' } };

describe('Session reconciler: the happy path', () => {
  test('new → Pending → Starting (Job created) → Running → Succeeded; terminal stays terminal', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    const r1 = await h.reconcile('s');
    let s = await h.session('s');
    expect(s.status).toMatchObject({ phase: 'Starting', attempt: 1, jobName: 's-1', reason: 'JobCreated' });
    // No pod yet: looked at again after 5 s (for a pod the Job cannot create), not only at the deadline.
    expect(r1).toEqual({ requeueAfterMs: 5_000 });

    const job = await h.job('s', 1);
    expect(job.spec?.backoffLimit).toBe(0);
    // The Job's Failed condition names the exit code or the disruption (kept after the pod).
    expect(job.spec?.podFailurePolicy?.rules.map((r) => Object.keys(r).sort())).toEqual([
      ['action', 'onPodConditions'],
      ['action', 'onExitCodes'],
    ]);
    const pod = job.spec!.template!.spec as {
      restartPolicy: string;
      containers: Array<{ image: string; env: unknown[] }>;
    };
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0]!.image).toBe('busybox');
    expect(pod.containers[0]!.env).toEqual(
      expect.arrayContaining([
        { name: 'STEWARD_SESSION', value: 's' },
        { name: 'STEWARD_ATTEMPT', value: '1' },
        { name: 'STEWARD_INPUT', value: '{"task":"x"}' },
      ]),
    );
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Session', name: 's', uid: s.metadata!.uid, controller: true }),
    ]);

    h.clock.step(2_000);
    await h.pod('s', 1, 'running');
    await h.reconcile('s');
    s = await h.session('s');
    expect(s.status).toMatchObject({ phase: 'Running', reason: 'PodRunning' });
    expect(s.status?.conditions?.find((c) => c.type === 'Running')?.status).toBe('True');

    await h.pod('s', 1, { exitCode: 0, reason: 'Completed' });
    await h.finishJob('s', 1, 'Complete');
    await h.reconcile('s');
    s = await h.session('s');
    expect(s.status).toMatchObject({ phase: 'Succeeded', exitCode: 0, reason: 'Completed' });
    expect(s.status?.completionTime).toBeDefined();
    expect(s.status?.conditions?.find((c) => c.type === 'Finished')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
    });

    await h.reconcile('s');
    await h.reconcile('s');
    expect((await h.session('s')).status?.phase).toBe('Succeeded');
    expect(await h.jobs()).toHaveLength(1);
    expect(h.events.map((e) => e.reason)).toEqual(['JobCreated', 'PodRunning', 'Completed']);
    const metrics = await h.registry.metrics();
    expect(metrics).toContain('steward_sessions_total{namespace="ns"} 1');
    expect(metrics).toContain('steward_sessions_completed_total{namespace="ns",final_phase="Succeeded"} 1');
    expect(metrics).toContain(
      'steward_session_phase_transitions_total{namespace="ns",from_phase="Running",to_phase="Succeeded"} 1',
    );
    expect(metrics).toContain('steward_session_startup_duration_seconds_sum{namespace="ns"} 2');
  });

  test("the Job's create asks for a metadata-only answer, and the next step reads that Job as created", async () => {
    const h = new Harness();
    const asked: Array<boolean | undefined> = [];
    const create = h.client.create.bind(h.client);
    h.client.create = (obj, opts) => {
      if (obj.kind === 'Job') asked.push(opts?.metadataOnlyResponse);
      return create(obj, opts);
    };
    await h.create('s', SPEC);
    // The Session goes to Starting in the same reconcile that created the Job from its answer's
    // metadata (FakeClient answers as the API server does: a PartialObjectMetadata).
    expect(await h.reconcile('s')).toEqual({ requeueAfterMs: 5_000 });
    expect(asked).toEqual([true]);
    const job = await h.job('s', 1);
    expect((await h.session('s')).status).toMatchObject({ phase: 'Starting', jobName: job.metadata!.name });
  });

  test('status writes ask for a metadata-only answer, and each step goes on from the Session as stored', async () => {
    const h = new Harness();
    const asked: Array<boolean | undefined> = [];
    const patchStatus = h.client.patchStatus.bind(h.client);
    h.client.patchStatus = (gvk, key, patch, opts) => {
      if (gvk.kind === 'Session') asked.push(opts?.metadataOnlyResponse);
      return patchStatus(gvk, key, patch, opts);
    };
    // What the recorder is handed is the Session each write returned to the reconciler.
    const written: Session[] = [];
    h.onEvent = (obj) => written.push(obj as Session);
    await h.create('s', SPEC);
    await h.reconcile('s');
    expect(written).toEqual([await h.session('s')]);
    h.clock.step(1_000);
    await h.pod('s', 1, 'running');
    await h.reconcile('s');
    await h.pod('s', 1, { exitCode: 0, reason: 'Completed' });
    await h.finishJob('s', 1, 'Complete');
    await h.reconcile('s');
    const stored = await h.session('s');
    expect(stored.status?.phase).toBe('Succeeded');
    expect(written.at(-1)).toEqual(stored);
    expect(written.map((s) => s.status?.phase)).toEqual(['Starting', 'Running', 'Succeeded']);
    expect(asked).toEqual([true, true, true]);
  });

  test('the image defaults to the runner image; without either the Session fails with InvalidSpec', async () => {
    const h = new Harness('runner:7');
    await h.create('a', { template: {} });
    await h.reconcile('a');
    expect((await h.job('a', 1)).spec!.template!.spec!.containers).toEqual([
      expect.objectContaining({ image: 'runner:7' }),
    ]);

    const h2 = new Harness(null);
    await h2.create('b', { template: {} });
    expect(await h2.reconcile('b')).toBeUndefined();
    expect((await h2.session('b')).status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(await h2.jobs()).toHaveLength(0);
  });
});

describe('Session reconciler: retries', () => {
  test('failures retry after 10 s, 20 s (initial × factor^n), then Failed with the exit code', async () => {
    const h = new Harness();
    await h.create('r', {
      ...SPEC,
      retry: { limit: 2, backoff: { initialSeconds: 10, factor: 2, maxSeconds: 300 } },
    });
    await h.reconcile('r');
    for (const [attempt, wait] of [
      [1, 10_000],
      [2, 20_000],
    ] as const) {
      await h.pod('r', attempt, { exitCode: 3 });
      await h.finishJob('r', attempt, 'Failed', 'BackoffLimitExceeded');
      expect(await h.reconcile('r')).toEqual({ requeueAfterMs: wait });
      const s = await h.session('r');
      expect(s.status).toMatchObject({ phase: 'Pending', reason: 'RetryBackoff', attempt, exitCode: 3 });
      expect(Date.parse(s.status!.nextRetryTime!)).toBe(h.clock.now() + wait);
      h.clock.step(wait - 1);
      expect(await h.reconcile('r')).toEqual({ requeueAfterMs: 1 });
      expect(await h.jobs()).toHaveLength(attempt);
      h.clock.step(1);
      await h.reconcile('r');
      expect((await h.session('r')).status).toMatchObject({ phase: 'Starting', attempt: attempt + 1 });
    }
    await h.pod('r', 3, { exitCode: 3 });
    await h.finishJob('r', 3, 'Failed');
    await h.reconcile('r');
    expect((await h.session('r')).status).toMatchObject({
      phase: 'Failed',
      reason: 'ExitCode',
      exitCode: 3,
      attempt: 3,
    });
    expect((await h.jobs()).map((j) => j.metadata!.name).sort()).toEqual(['r-1', 'r-2', 'r-3']);
  });

  test('a retry never starts before its backoff has passed, whatever the fraction of a second', async () => {
    // nextRetryTime has whole seconds: cut down, it would let a reconcile brought by any event
    // start the next attempt up to 999 ms early.
    const h = new Harness();
    h.clock.step(500);
    await h.create('f', {
      ...SPEC,
      retry: { limit: 1, backoff: { initialSeconds: 1, factor: 2, maxSeconds: 10 } },
    });
    await h.reconcile('f');
    await h.pod('f', 1, { exitCode: 3 });
    await h.finishJob('f', 1, 'Failed', 'BackoffLimitExceeded');
    const failedAt = h.clock.now();
    await h.reconcile('f');
    const retryAt = Date.parse((await h.session('f')).status!.nextRetryTime!);
    expect(retryAt).toBeGreaterThanOrEqual(failedAt + 1000);
    h.clock.step(600);
    await h.reconcile('f');
    expect(await h.jobs()).toHaveLength(1);
    h.clock.setTime(retryAt);
    await h.reconcile('f');
    expect((await h.session('f')).status).toMatchObject({ phase: 'Starting', attempt: 2 });
  });

  test('onExitCodes: an exit code not listed is not retried', async () => {
    const h = new Harness();
    await h.create('e', { ...SPEC, retry: { limit: 5, onExitCodes: [75] } });
    await h.reconcile('e');
    await h.pod('e', 1, { exitCode: 1 });
    await h.finishJob('e', 1, 'Failed');
    await h.reconcile('e');
    expect((await h.session('e')).status).toMatchObject({ phase: 'Failed', exitCode: 1 });
  });

  test('the backoff is capped at maxSeconds', async () => {
    const h = new Harness();
    await h.create('c', {
      ...SPEC,
      retry: { limit: 10, backoff: { initialSeconds: 100, factor: 10, maxSeconds: 150 } },
    });
    await h.reconcile('c');
    await h.pod('c', 1, { exitCode: 1 });
    await h.finishJob('c', 1, 'Failed');
    expect(await h.reconcile('c')).toEqual({ requeueAfterMs: 100_000 });
    h.clock.step(100_000);
    await h.reconcile('c');
    await h.pod('c', 2, { exitCode: 1 });
    await h.finishJob('c', 2, 'Failed');
    expect(await h.reconcile('c')).toEqual({ requeueAfterMs: 150_000 });
  });

  test('a Job deleted by someone else is a failed attempt with a clear reason', async () => {
    const h = new Harness();
    await h.create('d', SPEC);
    await h.reconcile('d');
    await h.client.delete(JOB_GVK, { namespace: 'ns', name: 'd-1' });
    await h.reconcile('d');
    expect((await h.session('d')).status).toMatchObject({ phase: 'Failed', reason: 'JobDeleted' });
  });
});

describe('Session reconciler: timeouts, cancel, TTL', () => {
  test('start timeout is exact: requeued for the deadline, TimedOut at it, Job deleted', async () => {
    const h = new Harness();
    await h.create('t', { ...SPEC, startTimeoutSeconds: 30 });
    await h.reconcile('t');
    await h.pod('t', 1, 'pending');
    expect(await h.reconcile('t')).toEqual({ requeueAfterMs: 30_000 });
    h.clock.step(29_999);
    expect(await h.reconcile('t')).toEqual({ requeueAfterMs: 1 });
    h.clock.step(1);
    await h.reconcile('t');
    expect((await h.session('t')).status).toMatchObject({ phase: 'TimedOut', reason: 'StartTimeout' });
    expect(await h.jobs()).toHaveLength(0);
  });

  test('run timeout counts from running', async () => {
    const h = new Harness();
    await h.create('u', { ...SPEC, timeoutSeconds: 60 });
    await h.reconcile('u');
    h.clock.step(5_000);
    await h.pod('u', 1, 'running');
    expect(await h.reconcile('u')).toEqual({ requeueAfterMs: 60_000 });
    h.clock.step(60_000);
    await h.reconcile('u');
    expect((await h.session('u')).status).toMatchObject({ phase: 'TimedOut', reason: 'RunTimeout' });
    expect(await h.job('u', 1).catch((e: unknown) => isNotFound(e))).toBe(true);
  });

  test('cancel: the Job is deleted and the Session is Cancelled, from Running or from a retry wait', async () => {
    const h = new Harness();
    await h.create('x', SPEC);
    await h.reconcile('x');
    await h.pod('x', 1, 'running');
    await h.reconcile('x');
    await h.client.patch(
      SESSION_GVK,
      { namespace: 'ns', name: 'x' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    await h.reconcile('x');
    expect((await h.session('x')).status).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled' });
    expect(await h.jobs()).toHaveLength(0);

    await h.create('y', { ...SPEC, cancel: true });
    await h.reconcile('y');
    expect((await h.session('y')).status).toMatchObject({ phase: 'Cancelled' });
    expect((await h.jobs()).filter((j) => j.metadata?.name === jobName('y', 1))).toHaveLength(0);
  });

  test('TTL: a finished Session is deleted ttlSecondsAfterFinished after completion', async () => {
    const h = new Harness();
    await h.create('ttl', { ...SPEC, ttlSecondsAfterFinished: 60 });
    await h.reconcile('ttl');
    await h.finishJob('ttl', 1, 'Complete');
    expect(await h.reconcile('ttl')).toEqual({ requeueAfterMs: 60_000 });
    h.clock.step(59_000);
    expect(await h.reconcile('ttl')).toEqual({ requeueAfterMs: 1_000 });
    h.clock.step(1_000);
    await h.reconcile('ttl');
    expect(await h.session('ttl').catch((e: unknown) => isNotFound(e))).toBe(true);
    expect(await h.reconcile('ttl')).toBeUndefined();
  });
});

describe('Session reconciler: idempotency and adoption', () => {
  test('a Job left by an earlier process for this attempt is adopted, not duplicated', async () => {
    const h = new Harness();
    await h.create('a', SPEC);
    await h.reconcile('a');
    // Roll the status back as if the process died after creating the Job but before writing status.
    const s = await h.session('a');
    await h.client.patchStatus(
      SESSION_GVK,
      { namespace: 'ns', name: 'a' },
      {
        type: 'merge',
        body: { status: { phase: 'Pending', attempt: 0, jobName: null } },
      },
    );
    void s;
    await h.reconcile('a');
    expect((await h.session('a')).status).toMatchObject({ phase: 'Starting', attempt: 1, jobName: 'a-1' });
    expect(await h.jobs()).toHaveLength(1);
  });

  test('a Job with the attempt’s name owned by someone else fails the Session', async () => {
    const h = new Harness();
    await h.client.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace: 'ns', name: 'b-1' },
      spec: {},
    });
    await h.create('b', SPEC);
    await h.reconcile('b');
    expect((await h.session('b')).status).toMatchObject({ phase: 'Failed', reason: 'JobNameConflict' });
  });

  test('a Job the API server rejects fails the Session with the server’s reason, not a retry loop', async () => {
    const h = new Harness();
    h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Job'
        ? new InvalidError({ status: 422, reason: 'Invalid', message: 'metadata.labels: Invalid value' })
        : undefined,
    );
    await h.create('inv', SPEC);
    expect(await h.reconcile('inv')).toBeUndefined();
    expect((await h.session('inv')).status).toMatchObject({ phase: 'Failed', reason: 'JobRejected' });
    expect((await h.session('inv')).status?.message).toContain('Invalid value');
    expect(await h.registry.metrics()).toContain(
      'steward_session_errors_total{namespace="ns",phase="Pending",error_type="JobRejected"} 1',
    );
  });

  test('a reconcile from a stale read gets a conflict and asks to be requeued', async () => {
    const h = new Harness();
    await h.create('c', SPEC);
    const stale = await h.session('c');
    await h.reconcile('c');
    const r = h.laggingReconciler(() => stale);
    expect(await r.reconcile({ namespace: 'ns', name: 'c' }, h.ctx())).toEqual({ requeue: true });
    expect((await h.session('c')).status).toMatchObject({ phase: 'Starting', attempt: 1 });
    expect(await h.jobs()).toHaveLength(1);
  });

  test('a cache that has not seen our own last write yet is waited for, not acted on', async () => {
    const h = new Harness();
    await h.create('lag', SPEC);
    let stale: Session | undefined;
    const r = h.laggingReconciler(() => stale);
    const before = await h.session('lag');
    await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx());
    stale = before;
    const creates: string[] = [];
    h.client.prependReactor((a) => {
      if (a.verb === 'create' || a.verb === 'patchStatus') creates.push(a.verb);
    });
    expect(await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx())).toEqual({ requeueAfterMs: 50 });
    expect(creates).toEqual([]);
    stale = undefined;
    await h.pod('lag', 1, 'running');
    await r.reconcile({ namespace: 'ns', name: 'lag' }, h.ctx());
    expect((await h.session('lag')).status?.phase).toBe('Running');
  });

  test('long Session names give valid Job names and labels', async () => {
    const h = new Harness();
    const name = 'n'.repeat(200);
    await h.create(name, SPEC);
    await h.reconcile(name);
    const [job] = await h.jobs();
    expect(job!.metadata!.name!.length).toBeLessThanOrEqual(63);
    expect(job!.metadata!.name).toMatch(/-1$/);
    expect(Object.values(job!.metadata!.labels!).every((v) => v.length <= 63)).toBe(true);
    expect((await h.session(name)).status?.jobName).toBe(job!.metadata!.name);
  });
});
