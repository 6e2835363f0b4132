// Workflows on the full local cluster: the operator as real processes; the Job controller, the
// scheduler and kwok run the pods (kwok ends each pod after steward.dev/fake-run-seconds with
// the exit code of steward.dev/fake-exit-code and the termination message of
// steward.dev/fake-result); the garbage collector follows the owner references.
import { join } from 'node:path';
import { type Job, type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { taskSessionName, type Workflow, WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { isNotFound, KubeClient, type KubernetesObject } from '../../lib/index.js';
import {
  type ControlPlane,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RESULT_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  installCRDs,
  readManifests,
  startControlPlane,
  waitFor,
} from '../../lib/testing/index.js';
import { type OperatorProcess, ROOT, startOperator } from './operator.js';

const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const NS = 'default';

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 2 } });
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
    join(ROOT, 'manifests', 'crd', 'workflow-tasks-immutable.yaml'),
  ]);
});
afterAll(async () => {
  client?.close();
  await cp?.stop();
});

function task(
  name: string,
  deps: string[],
  opts: { exit?: number | string; seconds?: number; result?: string } = {},
) {
  const annotations: Record<string, string> = {
    [FAKE_EXIT_CODE_ANNOTATION]: String(opts.exit ?? 0),
    [FAKE_RUN_SECONDS_ANNOTATION]: String(opts.seconds ?? 0),
  };
  if (opts.result !== undefined) annotations[FAKE_RESULT_ANNOTATION] = opts.result;
  return {
    name,
    ...(deps.length > 0 ? { dependsOn: deps } : {}),
    session: { template: { image: 'busybox:1.36', command: ['true'], annotations } },
  };
}

function withRetry(t: ReturnType<typeof task>, retry: object) {
  return { ...t, session: { ...t.session, retry } };
}

async function create(name: string, spec: object, ns = NS): Promise<void> {
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Workflow',
    metadata: { namespace: ns, name },
    spec,
  });
}

async function finished(name: string, ns = NS, timeoutMs = 90_000): Promise<Workflow> {
  return waitFor(
    async () => {
      const wf = await client.get<Workflow>(WORKFLOW_GVK, { namespace: ns, name });
      return ['Succeeded', 'Failed', 'Cancelled'].includes(wf.status?.phase ?? '') ? wf : undefined;
    },
    { description: `Workflow ${ns}/${name} finished`, timeoutMs, intervalMs: 200 },
  );
}

const phases = (wf: Workflow) =>
  Object.fromEntries(Object.entries(wf.status?.tasks ?? {}).map(([k, v]) => [k, v.phase]));
const sessionsOf = async (wf: string, ns = NS) =>
  (await client.list<Session>(SESSION_GVK, { namespace: ns, labelSelector: { 'steward.dev/workflow': wf } }))
    .items;

async function upstreamEnv(wf: string, taskName: string): Promise<unknown> {
  const s = await client.get<Session>(SESSION_GVK, { namespace: NS, name: taskSessionName(wf, taskName) });
  const job = await client.get<Job>(JOB, { namespace: NS, name: s.status!.jobName! });
  const env = (
    job.spec!.template!.spec!.containers as Array<{ env: Array<{ name: string; value: string }> }>
  )[0]!.env;
  return JSON.parse(env.find((e) => e.name === 'STEWARD_UPSTREAM')!.value);
}

describe('one operator', () => {
  let op: OperatorProcess;
  beforeAll(() => {
    op = startOperator(cp.kubeconfigPath, ['--namespace', NS]);
  });
  afterAll(async () => {
    expect(await op.stop()).toBe(0);
  });

  test('a diamond on kwok: pods’ termination messages become results, passed downstream', async () => {
    await create('diamond', {
      tasks: [
        task('a', [], { result: 'from-a' }),
        task('b', ['a'], { result: '{"rows":42}' }),
        task('c', ['a'], { result: 'from-c', seconds: 1 }),
        task('d', ['b', 'c']),
      ],
    });
    const wf = await finished('diamond');
    expect(wf.status).toMatchObject({ phase: 'Succeeded', progress: '4/4' });
    const a = await client.get<Session>(SESSION_GVK, { namespace: NS, name: 'diamond-a' });
    expect(a.status?.result).toBe('from-a');
    expect(await upstreamEnv('diamond', 'b')).toEqual({ a: 'from-a' });
    expect(await upstreamEnv('diamond', 'd')).toEqual({ b: '{"rows":42}', c: 'from-c' });
  });

  test('failure propagation under Stop and under Continue', async () => {
    const tasks = [
      task('fetch', []),
      task('validate', ['fetch'], { exit: 3 }),
      task('publish', ['validate']),
      task('report', [], { seconds: 6 }),
      task('notify', ['report']),
    ];
    await create('stop', { tasks });
    await create('continue', { onFailure: 'Continue', tasks });
    const stop = await finished('stop');
    expect(stop.status?.phase).toBe('Failed');
    expect(phases(stop)).toEqual({
      fetch: 'Succeeded',
      validate: 'Failed',
      publish: 'Skipped',
      report: 'Succeeded',
      notify: 'Skipped',
    });
    expect(stop.status?.tasks?.validate).toMatchObject({ reason: 'ExitCode', exitCode: 3 });
    expect(stop.status?.tasks?.notify?.reason).toBe('Stopped');
    const cont = await finished('continue');
    expect(cont.status?.phase).toBe('Failed');
    expect(phases(cont)).toEqual({
      fetch: 'Succeeded',
      validate: 'Failed',
      publish: 'Skipped',
      report: 'Succeeded',
      notify: 'Succeeded',
    });
    expect(cont.status?.tasks?.publish?.reason).toBe('UpstreamFailed');
  });

  test('retries inside a task: exit 3 then 0 on kwok, two Jobs, the Workflow succeeds', async () => {
    await create('retry', {
      tasks: [
        withRetry(task('flaky', [], { exit: '3,0', result: 'second time' }), {
          limit: 2,
          backoff: { initialSeconds: 1 },
        }),
        task('next', ['flaky']),
      ],
    });
    const wf = await finished('retry');
    expect(wf.status?.phase).toBe('Succeeded');
    expect(wf.status?.tasks?.flaky).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    expect(await upstreamEnv('retry', 'next')).toEqual({ flaky: 'second time' });
  });

  test('parallelism 3 over 9 tasks: never more than 3 Sessions running at once, by their timestamps', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `p${i}`);
    await create('parallel', { parallelism: 3, tasks: names.map((n) => task(n, [], { seconds: 2 })) });
    let most = 0;
    await waitFor(
      async () => {
        const items = await sessionsOf('parallel');
        most = Math.max(most, items.filter((s) => !s.status?.completionTime).length);
        const wf = await client.get<Workflow>(WORKFLOW_GVK, { namespace: NS, name: 'parallel' });
        return wf.status?.phase === 'Succeeded';
      },
      { description: 'parallel Succeeded', timeoutMs: 90_000, intervalMs: 100 },
    );
    expect(most).toBe(3);
    const spans = (await sessionsOf('parallel')).map((s) => [
      Date.parse(s.metadata!.creationTimestamp!),
      Date.parse(s.status!.completionTime!),
    ]);
    for (const [at] of spans)
      expect(spans.filter(([b, e]) => b! <= at! && at! < e!).length).toBeLessThanOrEqual(3);
  });

  test('cancel mid-flight: the running pod’s Job goes, the Workflow ends Cancelled', async () => {
    await create('cancel', { tasks: [task('long', [], { seconds: 600 }), task('after', ['long'])] });
    await waitFor(
      async () =>
        (
          await client
            .get<Session>(SESSION_GVK, { namespace: NS, name: 'cancel-long' })
            .catch(() => undefined)
        )?.status?.phase === 'Running',
      { description: 'the long task running', timeoutMs: 60_000 },
    );
    await client.patch(
      WORKFLOW_GVK,
      { namespace: NS, name: 'cancel' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    const wf = await finished('cancel');
    expect(wf.status?.phase).toBe('Cancelled');
    expect(phases(wf)).toEqual({ long: 'Cancelled', after: 'Cancelled' });
    await waitFor(
      () => client.get(JOB, { namespace: NS, name: 'cancel-long-1' }).then(() => false, isNotFound),
      {
        description: 'the Job deleted',
      },
    );
  });

  test('deleting a Workflow deletes its Sessions and their Jobs (owner references, garbage collector)', async () => {
    await create('doomed', { tasks: [task('x', [], { seconds: 600 }), task('y', [], { seconds: 600 })] });
    await waitFor(
      async () =>
        (await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'doomed-x' } }))
          .items.length === 1,
      {
        description: 'a Job of the Workflow',
        timeoutMs: 60_000,
      },
    );
    await client.delete(WORKFLOW_GVK, { namespace: NS, name: 'doomed' }, { propagationPolicy: 'Background' });
    await waitFor(async () => (await sessionsOf('doomed')).length === 0, {
      description: 'the Sessions deleted',
      timeoutMs: 60_000,
    });
    await waitFor(
      async () =>
        (await client.list(JOB, { namespace: NS })).items.filter((j) =>
          j.metadata!.name!.startsWith('doomed-'),
        ).length === 0,
      { description: 'the Jobs deleted', timeoutMs: 60_000 },
    );
  });

  test('deleted and submitted again at once under the same name: the new Workflow waits for the old Sessions, then runs', async () => {
    const spec = { tasks: [task('x', [], { seconds: 600 }), task('y', ['x'])] };
    await create('again', spec);
    await waitFor(
      async () =>
        (await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'again-x' } })).items
          .length === 1,
      { description: 'the first Workflow’s Job', timeoutMs: 60_000 },
    );
    const old = (await client.get<Workflow>(WORKFLOW_GVK, { namespace: NS, name: 'again' })).metadata!.uid;
    // What `stewardctl delete wf/again` and `submit -f` do: the garbage collector has not
    // removed the old Sessions when the new Workflow is first reconciled.
    await client.delete(WORKFLOW_GVK, { namespace: NS, name: 'again' }, { propagationPolicy: 'Background' });
    await waitFor(
      async () =>
        client.get(WORKFLOW_GVK, { namespace: NS, name: 'again' }).then(
          () => false,
          (err: unknown) => isNotFound(err),
        ),
      { description: 'the first Workflow gone', timeoutMs: 60_000, intervalMs: 20 },
    );
    await create('again', { tasks: [task('x', []), task('y', ['x'])] });
    const wf = await finished('again');
    expect(wf.metadata!.uid).not.toBe(old);
    expect(wf.status).toMatchObject({ phase: 'Succeeded', progress: '2/2' });
    const sessions = await sessionsOf('again');
    expect(sessions.map((s) => s.metadata!.ownerReferences![0]!.uid)).toEqual([
      wf.metadata!.uid,
      wf.metadata!.uid,
    ]);
  });

  test('the samples run to their documented ends on kwok', async () => {
    const samples = ['diamond', 'fan-out', 'failing-stop', 'failing-continue'].map((n) => {
      const [wf] = readManifests(join(ROOT, 'manifests', 'samples', `workflow-${n}.yaml`));
      return {
        ...wf!,
        metadata: { ...wf!.metadata, name: `sample-${n}`, namespace: NS },
      } as KubernetesObject;
    });
    for (const s of samples) await client.create(s);
    const diamond = await finished('sample-diamond', NS, 120_000);
    expect(diamond.status?.phase).toBe('Succeeded');
    expect(await upstreamEnv('sample-diamond', 'load')).toEqual({
      'transform-a': '{"rows":42}',
      'transform-b': '{"rows":7}',
    });
    const fan = await finished('sample-fan-out', NS, 120_000);
    expect(fan.status).toMatchObject({ phase: 'Succeeded', progress: '22/22' });
    expect(Object.keys((await upstreamEnv('sample-fan-out', 'merge')) as object)).toHaveLength(20);
    const stop = await finished('sample-failing-stop', NS, 120_000);
    expect([stop.status?.phase, phases(stop)]).toEqual([
      'Failed',
      { fetch: 'Succeeded', validate: 'Failed', publish: 'Skipped', report: 'Succeeded', notify: 'Skipped' },
    ]);
    const cont = await finished('sample-failing-continue', NS, 120_000);
    expect([cont.status?.phase, phases(cont)]).toEqual([
      'Failed',
      {
        fetch: 'Succeeded',
        validate: 'Failed',
        publish: 'Skipped',
        report: 'Succeeded',
        notify: 'Succeeded',
      },
    ]);
  });
});

describe('two replicas under --leader-elect', () => {
  test('SIGKILL the leader mid-workflow: the other finishes it, every task ran exactly once', async () => {
    const ns = 'wf-ha';
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const le = ['--leader-elect', '--leader-election-namespace', ns, '--namespace', ns];
    const a = startOperator(cp.kubeconfigPath, le);
    const b = startOperator(cp.kubeconfigPath, le);
    try {
      // Three layers of 20; each task waits for two of the layer above.
      const tasks = [];
      for (let l = 0; l < 3; l++) {
        for (let i = 0; i < 20; i++) {
          tasks.push(
            task(`l${l}-${i}`, l === 0 ? [] : [`l${l - 1}-${i}`, `l${l - 1}-${(i + 1) % 20}`], {
              seconds: 1,
            }),
          );
        }
      }
      await create('layers', { parallelism: 15, tasks }, ns);
      await waitFor(
        async () =>
          (await sessionsOf('layers', ns)).filter((s) => s.status?.phase === 'Succeeded').length >= 10,
        { description: '10 tasks done', timeoutMs: 120_000, intervalMs: 200 },
      );
      const uids = new Map(
        (await sessionsOf('layers', ns)).map((s) => [s.metadata!.name!, s.metadata!.uid!]),
      );
      const lease = await client.get<KubernetesObject & { spec: { holderIdentity: string } }>(
        { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
        { namespace: ns, name: 'steward-manager' },
      );
      const leader = findLeader([a, b], lease.spec.holderIdentity);
      leader.child.kill('SIGKILL');
      await leader.exited;
      const wf = await finished('layers', ns, 240_000);
      expect(wf.status).toMatchObject({ phase: 'Succeeded', progress: '60/60' });
      const sessions = await sessionsOf('layers', ns);
      expect(sessions).toHaveLength(60);
      for (const s of sessions) {
        expect([s.metadata!.name, s.status?.attempt]).toEqual([s.metadata!.name, 1]);
        if (uids.has(s.metadata!.name!)) expect(s.metadata!.uid).toBe(uids.get(s.metadata!.name!));
      }
      const jobs = (await client.list(JOB, { namespace: ns })).items.map((j) => j.metadata!.name!).sort();
      expect(jobs).toEqual(sessions.map((s) => `${s.metadata!.name}-1`).sort());
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

/** The replica holding the Lease: the one that logged `Became leader` with that identity. */
function findLeader(ops: OperatorProcess[], holder: string): OperatorProcess {
  const leads = (o: OperatorProcess) =>
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
      });
  const found = ops.find(leads);
  if (!found) throw new Error(`no replica logged leadership as ${holder}`);
  return found;
}
