// The Session operator against a real kube-apiserver. The test plays the Job controller and
// the kubelet (patching Job and Pod status); everything else is real: the CRD with its schema
// and CEL rules, the operator's caches, status patches, events, RBAC and Pod Security admission.
import { jobName, buildJob, type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { SessionTransitions } from '../../controllers/session/transitions.js';
import {
  isConflict,
  isInvalid,
  isNotFound,
  realClock,
  silentLogger,
  KubeClient,
  type KubernetesObject,
  type StatusError,
} from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor, waitForEvents } from '../../lib/testing/index.js';
import {
  apply,
  createSession,
  finishJob,
  installCrd,
  JOB,
  manifests,
  playPod,
  session,
  startOperator,
  waitJob,
  waitPhase,
} from './session-helpers.js';

let cp: ControlPlane;
let client: KubeClient;
let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
const NS = 'sessions';
const IMG = { template: { image: 'busybox:1.36', command: ['sh', '-c', 'echo hi'] } };

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});
afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
});

describe('lifecycle with the operator running', () => {
  beforeAll(async () => {
    operator = await startOperator(cp.kubeConfig, { namespaces: [NS] });
  });
  afterAll(async () => {
    await operator?.stop();
    operator = undefined;
  });

  test('Pending → Starting → Running → Succeeded, with the Job as specified', async () => {
    await createSession(client, NS, 'ok', { ...IMG, input: { n: 1 } });
    await waitPhase(client, NS, 'ok', 'Starting');
    const job = await waitJob(client, NS, 'ok', 1);
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Session',
      name: 'ok',
      controller: true,
    });
    await playPod(client, NS, 'ok', 1, 'running');
    await waitPhase(client, NS, 'ok', 'Running');
    await playPod(client, NS, 'ok', 1, { exitCode: 0 });
    await finishJob(client, NS, 'ok-1', 'Complete');
    const s = await waitPhase(client, NS, 'ok', 'Succeeded');
    expect(s.status).toMatchObject({ attempt: 1, exitCode: 0, reason: 'Completed' });
    // Written in the background after the status: waited for, not listed once.
    await waitForEvents(client, NS, 'ok', ['JobCreated', 'PodRunning', 'Completed']);
  });

  test('retries with backoff until success', async () => {
    await createSession(client, NS, 'retry', {
      ...IMG,
      retry: { limit: 2, backoff: { initialSeconds: 1, factor: 2, maxSeconds: 10 } },
    });
    await waitJob(client, NS, 'retry', 1);
    await playPod(client, NS, 'retry', 1, { exitCode: 3 });
    const failedAt = Date.now();
    await finishJob(client, NS, 'retry-1', 'Failed');
    const pending = await waitPhase(client, NS, 'retry', 'Pending');
    expect(pending.status).toMatchObject({ reason: 'RetryBackoff', attempt: 1, exitCode: 3 });
    await waitJob(client, NS, 'retry', 2);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(900);
    await finishJob(client, NS, 'retry-2', 'Complete');
    expect((await waitPhase(client, NS, 'retry', 'Succeeded')).status?.attempt).toBe(2);
  });

  test('retries exhausted → Failed with the exit code', async () => {
    await createSession(client, NS, 'fails', { ...IMG, retry: { limit: 1, backoff: { initialSeconds: 0 } } });
    for (const attempt of [1, 2]) {
      await waitJob(client, NS, 'fails', attempt);
      await playPod(client, NS, 'fails', attempt, { exitCode: 7 });
      await finishJob(client, NS, jobName('fails', attempt), 'Failed');
    }
    const s = await waitPhase(client, NS, 'fails', 'Failed');
    expect(s.status).toMatchObject({ attempt: 2, exitCode: 7, reason: 'ExitCode' });
  });

  test('start timeout and run timeout → TimedOut, the Job deleted', async () => {
    await createSession(client, NS, 'slowstart', { ...IMG, startTimeoutSeconds: 1 });
    expect((await waitPhase(client, NS, 'slowstart', 'TimedOut')).status?.reason).toBe('StartTimeout');
    await waitFor(
      () => client.get(JOB, { namespace: NS, name: 'slowstart-1' }).then(() => false, isNotFound),
      {
        description: 'the Job deleted',
      },
    );

    await createSession(client, NS, 'slowrun', { ...IMG, timeoutSeconds: 1 });
    await waitJob(client, NS, 'slowrun', 1);
    await playPod(client, NS, 'slowrun', 1, 'running');
    expect((await waitPhase(client, NS, 'slowrun', 'TimedOut')).status?.reason).toBe('RunTimeout');
  });

  test('cancel → Cancelled, the Job deleted', async () => {
    await createSession(client, NS, 'cancel', IMG);
    await waitJob(client, NS, 'cancel', 1);
    await client.patch(
      { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' },
      { namespace: NS, name: 'cancel' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    await waitPhase(client, NS, 'cancel', 'Cancelled');
    await waitFor(() => client.get(JOB, { namespace: NS, name: 'cancel-1' }).then(() => false, isNotFound), {
      description: 'the Job deleted',
    });
  });

  // Deleted and created again under the same name (kubectl delete && kubectl create, a Workflow
  // re-run): the old Session's Job waits for the garbage collector (which never comes here: no
  // controller manager), and its name is the new Session's first Job name. It used to end the
  // new Session Failed/JobNameConflict.
  test('a Session created again under its old name runs, although the old Job is not yet collected', async () => {
    await createSession(client, NS, 'again', IMG);
    const old = await waitJob(client, NS, 'again', 1);
    await client.delete(
      { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' },
      { namespace: NS, name: 'again' },
      { propagationPolicy: 'Background' },
    );
    await waitFor(() => session(client, NS, 'again').then(() => false, isNotFound), {
      description: 'the old Session gone',
    });
    const fresh = await createSession(client, NS, 'again', IMG);
    await waitFor(
      async () => {
        const job = await client.get(JOB, { namespace: NS, name: 'again-1' });
        return job.metadata?.ownerReferences?.[0]?.uid === fresh.metadata!.uid ? job : undefined;
      },
      { description: 'a Job of the new Session' },
    );
    expect((await session(client, NS, 'again')).status).toMatchObject({ phase: 'Starting', attempt: 1 });
    await expect(client.get(JOB, { namespace: NS, name: 'again-1' })).resolves.not.toMatchObject({
      metadata: { uid: old.metadata!.uid },
    });
  });

  test('TTL: a finished Session is deleted after ttlSecondsAfterFinished', async () => {
    await createSession(client, NS, 'ttl', { ...IMG, ttlSecondsAfterFinished: 1 });
    await waitJob(client, NS, 'ttl', 1);
    await finishJob(client, NS, 'ttl-1', 'Complete');
    await waitPhase(client, NS, 'ttl', 'Succeeded');
    await waitFor(() => session(client, NS, 'ttl').then(() => false, isNotFound), {
      description: 'the Session deleted',
    });
  });
});

describe('status writes', () => {
  test('the Session a write returns (from a metadata-only answer) is the one stored; a stale write conflicts', async () => {
    await createSession(client, NS, 'written', IMG);
    const read = await client.get<Session>(SESSION_GVK, { namespace: NS, name: 'written' });
    const events: KubernetesObject[] = [];
    const transitions = new SessionTransitions({
      client,
      clock: realClock,
      recorder: { event: (obj) => events.push(obj) },
    });
    const ctx = { logger: silentLogger(), signal: new AbortController().signal, reconcileID: 'r' };
    const stripped = (s: Session) => ({ ...s, metadata: { ...s.metadata, managedFields: undefined } });
    const starting = await transitions.write(
      read,
      { phase: 'Starting', reason: 'JobCreated', message: 'm', attempt: 1, jobName: 'written-1' },
      ctx,
    );
    expect(starting).toEqual(
      stripped(await client.get<Session>(SESSION_GVK, { namespace: NS, name: 'written' })),
    );
    expect(events).toEqual([starting]);
    // The next write goes from what the first returned (its resourceVersion is the server's)...
    const done = await transitions.write(
      starting,
      { phase: 'Succeeded', reason: 'Completed', message: 'done', exitCode: 0, jobName: undefined },
      ctx,
    );
    const stored = await client.get<Session>(SESSION_GVK, { namespace: NS, name: 'written' });
    expect(done).toEqual(stripped(stored));
    expect(stored.status).toMatchObject({ phase: 'Succeeded', attempt: 1, exitCode: 0 });
    expect(stored.status?.jobName).toBeUndefined();
    // ...and one from the Session as first read is refused: no lost update.
    const stale = await transitions
      .write(read, { phase: 'Failed', reason: 'X', message: 'stale' }, ctx)
      .catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
  });
});

describe('the API server enforces the schema', () => {
  async function rejected(spec: object): Promise<string> {
    try {
      await createSession(client, NS, `bad-${Math.random().toString(36).slice(2, 8)}`, spec);
    } catch (err) {
      expect(isInvalid(err)).toBe(true);
      return (err as StatusError).message;
    }
    throw new Error('the API server accepted an invalid spec');
  }

  test('invalid specs are rejected with the schema’s message', async () => {
    expect(await rejected({ ...IMG, retry: { limit: -1 } })).toMatch(/spec\.retry\.limit/);
    expect(await rejected({ ...IMG, startTimeoutSeconds: 0 })).toMatch(/spec\.startTimeoutSeconds/);
    expect(await rejected({ ...IMG, retry: { backoff: { initialSeconds: 60, maxSeconds: 10 } } })).toMatch(
      /maxSeconds/,
    );
    expect(await rejected({ ...IMG, retry: { onExitCodes: [300] } })).toMatch(/onExitCodes/);
  });

  test('template is immutable and cancel cannot be undone', async () => {
    await createSession(client, NS, 'immutable', { ...IMG, cancel: true });
    const S = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
    const key = { namespace: NS, name: 'immutable' };
    await expect(
      client.patch(S, key, { type: 'merge', body: { spec: { template: { image: 'other' } } } }),
    ).rejects.toThrow(/immutable/);
    await expect(client.patch(S, key, { type: 'merge', body: { spec: { cancel: false } } })).rejects.toThrow(
      /cancel/,
    );
  });
});

describe('restart safety', () => {
  test('stop the operator mid-flight, start another: every Session terminal, one Job per attempt', async () => {
    const ns = 'restart';
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const names = Array.from({ length: 30 }, (_, i) => `r${i}`);
    const first = await startOperator(cp.kubeConfig, { namespaces: [ns] });
    await Promise.all(names.map((n) => createSession(client, ns, n, IMG)));
    await waitFor(async () => (await client.list(JOB, { namespace: ns })).items.length >= 10, {
      description: 'some Jobs created',
      intervalMs: 10,
    });
    await first.stop();
    const second = await startOperator(cp.kubeConfig, { namespaces: [ns] });
    try {
      // Play the Job controller for every Job that appears, until all Sessions are terminal.
      await waitFor(
        async () => {
          for (const job of (
            await client.list<KubernetesObject & { status?: { conditions?: unknown[] } }>(JOB, {
              namespace: ns,
            })
          ).items) {
            if (!job.status?.conditions?.length) await finishJob(client, ns, job.metadata!.name!, 'Complete');
          }
          const phases = await Promise.all(
            names.map(async (n) => (await session(client, ns, n)).status?.phase),
          );
          return phases.every((p) => p === 'Succeeded');
        },
        { description: 'all Sessions Succeeded', timeoutMs: 60_000, intervalMs: 200 },
      );
    } finally {
      await second.stop();
    }
    const jobs = (await client.list(JOB, { namespace: ns })).items.map((j) => j.metadata!.name!).sort();
    expect(jobs).toEqual(names.map((n) => jobName(n, 1)).sort());
  });
});

describe('least privilege and pod security', () => {
  test('the operator works as its ServiceAccount with the shipped RBAC', async () => {
    await apply(client, [
      ...manifests('manager').filter((o) => o.kind === 'Namespace'),
      ...manifests('rbac'),
    ]);
    const ns = 'rbac';
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const sa = await cp.userKubeConfig('system:serviceaccount:steward-system:steward-manager', [
      'system:serviceaccounts',
      'system:serviceaccounts:steward-system',
    ]);
    // Sanity: this identity has no rights beyond the shipped ones.
    await expect(
      new KubeClient(sa).list({ group: '', version: 'v1', kind: 'Secret' }, { namespace: ns }),
    ).rejects.toThrow(/forbidden/i);
    const op = await startOperator(sa, { leaderElection: true });
    try {
      await createSession(client, ns, 'as-sa', IMG);
      await waitJob(client, ns, 'as-sa', 1);
      await playPod(client, ns, 'as-sa', 1, 'running');
      await waitPhase(client, ns, 'as-sa', 'Running');
      await finishJob(client, ns, 'as-sa-1', 'Complete');
      await waitPhase(client, ns, 'as-sa', 'Succeeded');
      const metrics = await (await fetch(`http://${op.mgr.metricsAddress}/metrics`)).text();
      expect(metrics).not.toMatch(/rest_client_requests_total\{code="403"/);
      expect(metrics).toMatch(/leader_election_master_status\{name="steward-manager"\} 1/);
    } finally {
      await op.stop();
    }
  });

  test('the generated pod and the operator’s own pod are admitted under the restricted Pod Security Standard', async () => {
    const ns = 'restricted';
    await client.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    const dryRun = (spec: unknown, name: string) =>
      client.create(
        { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec },
        { dryRun: true },
      );
    const job = buildJob(
      {
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        metadata: { namespace: ns, name: 's', uid: '00000000-0000-0000-0000-000000000000' },
        spec: IMG,
      },
      1,
      { startTimeoutSeconds: 300 },
    );
    await dryRun(job.spec!.template!.spec, 'session-pod');
    const deployment = manifests('manager').find((o) => o.kind === 'Deployment') as KubernetesObject & {
      spec: { template: { spec: unknown } };
    };
    await dryRun(deployment.spec.template.spec, 'operator-pod');
    // The check can fail: a privileged pod is refused in the same namespace.
    await expect(
      dryRun(
        { containers: [{ name: 'x', image: 'x', securityContext: { privileged: true } }] },
        'privileged',
      ),
    ).rejects.toThrow(/violates PodSecurity "restricted/);
  });
});
