// Sessions on the full local cluster: the operator runs as real processes; the job controller,
// the scheduler and kwok run the Jobs' pods (kwok ends each pod with the exit code of its
// steward.dev/fake-exit-code annotation after steward.dev/fake-run-seconds).
import { join } from 'node:path';
import { jobName } from '../../controllers/session/index.js';
import { isNotFound, KubeClient, type KubernetesObject } from '../../lib/index.js';
import {
  type ControlPlane,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  installCRDs,
  startControlPlane,
  waitFor,
} from '../../lib/testing/index.js';
import { type OperatorProcess, ROOT, startOperator } from './operator.js';

const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const NS = 'default';

interface SessionObj extends KubernetesObject {
  status?: { phase?: string; attempt?: number; exitCode?: number; reason?: string };
}

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 2 } });
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
  ]);
});
afterAll(async () => {
  client?.close();
  await cp?.stop();
});

function spec(exitCode: number | string, runSeconds: number, extra: Record<string, unknown> = {}) {
  return {
    template: {
      image: 'busybox:1.36',
      command: ['sh', '-c', 'echo hello'],
      annotations: {
        [FAKE_EXIT_CODE_ANNOTATION]: String(exitCode),
        [FAKE_RUN_SECONDS_ANNOTATION]: String(runSeconds),
      },
    },
    ...extra,
  };
}

async function create(name: string, s: object, ns = NS): Promise<void> {
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: ns, name },
    spec: s,
  });
}

async function terminal(name: string, ns = NS, timeoutMs = 60_000): Promise<SessionObj> {
  return waitFor(
    async () => {
      const s = await client.get<SessionObj>(SESSION, { namespace: ns, name });
      return ['Succeeded', 'Failed', 'TimedOut', 'Cancelled'].includes(s.status?.phase ?? '') ? s : undefined;
    },
    { description: `Session ${name} terminal`, timeoutMs, intervalMs: 100 },
  );
}

describe('one operator', () => {
  let op: OperatorProcess;
  beforeAll(() => {
    op = startOperator(cp.kubeconfigPath, [
      '--namespace',
      NS,
      '--tenant-policy',
      join(ROOT, 'test', 'e2e', 'tenant-policy.yaml'),
    ]);
  });
  afterAll(async () => {
    expect(await op.stop()).toBe(0);
  });

  test('success: the Job runs on a kwok node and completes', async () => {
    await create('ok', spec(0, 1));
    const s = await terminal('ok');
    expect(s.status).toMatchObject({ phase: 'Succeeded', attempt: 1, exitCode: 0 });
  });

  test('failure: the pod’s exit code is reported', async () => {
    await create('exit3', spec(3, 0));
    expect((await terminal('exit3')).status).toMatchObject({
      phase: 'Failed',
      reason: 'ExitCode',
      exitCode: 3,
    });
  });

  test('retries exhausted: one Job per attempt, then Failed', async () => {
    await create('retries', spec(4, 0, { retry: { limit: 2, backoff: { initialSeconds: 1, factor: 1 } } }));
    expect((await terminal('retries')).status).toMatchObject({ phase: 'Failed', attempt: 3, exitCode: 4 });
    const jobs = (
      await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'retries' } })
    ).items;
    expect(jobs.map((j) => j.metadata!.name).sort()).toEqual(['retries-1', 'retries-2', 'retries-3']);
  });

  test('retries until success: attempt 1 exits 3, attempt 2 succeeds', async () => {
    await create('recovers', spec('3,0', 0, { retry: { limit: 3, backoff: { initialSeconds: 1 } } }));
    expect((await terminal('recovers')).status).toMatchObject({
      phase: 'Succeeded',
      attempt: 2,
      exitCode: 0,
    });
    const jobs = (
      await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'recovers' } })
    ).items;
    expect(jobs.map((j) => j.metadata!.name).sort()).toEqual(['recovers-1', 'recovers-2']);
  });

  test('retries only on the listed exit codes', async () => {
    await create('nonretryable', spec(9, 0, { retry: { limit: 3, onExitCodes: [75] } }));
    expect((await terminal('nonretryable')).status).toMatchObject({
      phase: 'Failed',
      attempt: 1,
      exitCode: 9,
    });
  });

  test('start timeout: a pod that cannot be scheduled', async () => {
    await create('unschedulable', {
      ...spec(0, 0, { startTimeoutSeconds: 2 }),
      template: { image: 'busybox:1.36', nodeSelector: { 'no-such-label': 'x' } },
    });
    expect((await terminal('unschedulable')).status).toMatchObject({
      phase: 'TimedOut',
      reason: 'StartTimeout',
    });
    await waitFor(
      () => client.get(JOB, { namespace: NS, name: 'unschedulable-1' }).then(() => false, isNotFound),
      {
        description: 'the Job deleted',
      },
    );
  });

  test('run timeout: a pod that runs too long', async () => {
    await create('toolong', spec(0, 60, { timeoutSeconds: 2 }));
    expect((await terminal('toolong')).status).toMatchObject({ phase: 'TimedOut', reason: 'RunTimeout' });
  });

  test('cancel: the running Job is deleted', async () => {
    await create('cancelme', spec(0, 60));
    await waitFor(
      async () =>
        (await client.get<SessionObj>(SESSION, { namespace: NS, name: 'cancelme' })).status?.phase ===
        'Running',
      {
        description: 'running',
      },
    );
    await client.patch(
      SESSION,
      { namespace: NS, name: 'cancelme' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    expect((await terminal('cancelme')).status?.phase).toBe('Cancelled');
    await waitFor(
      () => client.get(JOB, { namespace: NS, name: 'cancelme-1' }).then(() => false, isNotFound),
      {
        description: 'the Job deleted',
      },
    );
  });

  test('TTL clean-up: the Session and its Job are deleted after ttlSecondsAfterFinished', async () => {
    await create('ttl', spec(0, 0, { ttlSecondsAfterFinished: 2 }));
    await waitFor(() => client.get(SESSION, { namespace: NS, name: 'ttl' }).then(() => false, isNotFound), {
      description: 'the Session deleted',
      timeoutMs: 60_000,
    });
    // The garbage collector removes the Job through its owner reference.
    await waitFor(() => client.get(JOB, { namespace: NS, name: 'ttl-1' }).then(() => false, isNotFound), {
      description: 'the Job deleted',
      timeoutMs: 60_000,
    });
  });
});

describe('two replicas under --leader-elect', () => {
  test('200 Sessions; SIGKILL the leader midway: all terminal, exactly one Job per attempt', async () => {
    const ns = 'ha';
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const le = [
      '--leader-elect',
      '--leader-election-namespace',
      ns,
      '--namespace',
      ns,
      '--log-level',
      'info',
    ];
    const a = startOperator(cp.kubeconfigPath, le);
    const b = startOperator(cp.kubeconfigPath, le);
    const names = Array.from({ length: 200 }, (_, i) => `ha-${i}`);
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < names.length) await create(names[next++]!, spec(0, 1), ns);
        }),
      );
      // Midway: once a quarter of the Sessions are done, kill whoever holds the Lease.
      await waitFor(
        async () => {
          const items = (await client.list<SessionObj>(SESSION, { namespace: ns })).items;
          return items.filter((s) => s.status?.phase === 'Succeeded').length >= 50;
        },
        { description: '50 Sessions done', timeoutMs: 120_000, intervalMs: 200 },
      );
      const lease = await client.get<KubernetesObject & { spec: { holderIdentity: string } }>(
        { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
        { namespace: ns, name: 'steward-manager' },
      );
      const killed = findLeader([a, b], lease.spec.holderIdentity);
      killed.child.kill('SIGKILL');
      await killed.exited;
      await waitFor(
        async () => {
          const items = (await client.list<SessionObj>(SESSION, { namespace: ns })).items;
          return items.length === names.length && items.every((s) => s.status?.phase === 'Succeeded');
        },
        { description: 'all 200 Sessions Succeeded', timeoutMs: 240_000, intervalMs: 500 },
      );
      const jobs = (await client.list(JOB, { namespace: ns })).items.map((j) => j.metadata!.name!).sort();
      expect(jobs).toEqual(names.map((n) => jobName(n, 1)).sort());
      const sessions = (await client.list<SessionObj>(SESSION, { namespace: ns })).items;
      expect(sessions.every((s) => s.status?.attempt === 1)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

/** The replica holding the Lease: the one that logged `Became leader` with that identity. */
function findLeader(ops: OperatorProcess[], holder: string): OperatorProcess {
  const found = ops.find((o) =>
    o
      .logs()
      .split('\n')
      .some((line) => {
        try {
          const l = JSON.parse(line) as { message?: string; identity?: string };
          return l.message === 'Became leader' && l.identity === holder;
        } catch {
          return false;
        }
      }),
  );
  if (!found) throw new Error(`no replica logged leadership as ${holder}`);
  return found;
}
