// Schedules on the full local cluster: the operator as a real process (the Session, Workflow
// and Schedule controllers), the job controller, the scheduler and kwok running the runs' pods, the garbage
// collector removing pruned runs' Jobs. kwok ends each pod with the exit code of its
// steward.dev/fake-exit-code annotation after steward.dev/fake-run-seconds.
import { join } from 'node:path';
import {
  ANNOTATION_SCHEDULED_TIME,
  LABEL_SCHEDULE,
  type Schedule,
  SCHEDULE_GVK,
} from '../../controllers/schedule/index.js';
import { JOB_GVK, type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { taskSessionName, WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { isNotFound, KubeClient, type KubernetesObject } from '../../lib/index.js';
import {
  type ControlPlane,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  installCRDs,
  startControlPlane,
  waitFor,
  waitForEvents,
} from '../../lib/testing/index.js';
import { type OperatorProcess, ROOT, startOperator } from './operator.js';

const NS = 'default';
type Run = KubernetesObject & { status?: { phase?: string; jobName?: string } };
type Job = KubernetesObject & {
  spec?: { template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
};

let cp: ControlPlane;
let client: KubeClient;
let op: OperatorProcess;

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 2 } });
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_schedules.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
  ]);
  op = startOperator(cp.kubeconfigPath, ['--namespace', NS]);
});
afterAll(async () => {
  expect(await op?.stop()).toBe(0);
  client?.close();
  await cp?.stop();
});

async function runs(schedule: string, gvk = SESSION_GVK): Promise<Run[]> {
  const items = (
    await client.list<Run>(gvk, { namespace: NS, labelSelector: { [LABEL_SCHEDULE]: schedule } })
  ).items;
  return items.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
}
const get = (name: string) => client.get<Schedule>(SCHEDULE_GVK, { namespace: NS, name });

test('a Schedule of Sessions runs end to end: pods get STEWARD_SCHEDULED_TIME, history pruned, runs go with the Schedule', async () => {
  const schedule = (name: string, exitCode: number) =>
    client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Schedule',
      metadata: { namespace: NS, name },
      spec: {
        schedule: '*/3 * * * * *',
        successfulRunsHistoryLimit: 2,
        failedRunsHistoryLimit: 1,
        sessionTemplate: {
          spec: {
            template: {
              image: 'busybox:1.36',
              command: ['sh', '-c', 'echo "$STEWARD_SCHEDULED_TIME"'],
              annotations: {
                [FAKE_EXIT_CODE_ANNOTATION]: String(exitCode),
                [FAKE_RUN_SECONDS_ANNOTATION]: '1',
              },
            },
          },
        },
      },
    });
  await schedule('passes', 0);
  await schedule('fails', 3);

  // Five runs started each; then suspended, so that once the active ones finish, exactly the
  // history limits remain: the newest finished runs, the older ones deleted.
  const fiveStarted = (name: string) =>
    waitFor(
      async () => {
        const s = await get(name);
        const last = Date.parse(s.status?.lastScheduleTime ?? '') || 0;
        return last - Date.parse(s.metadata!.creationTimestamp!) >= 5 * 3_000;
      },
      { description: `${name}: five runs started`, timeoutMs: 120_000, intervalMs: 250 },
    );
  await Promise.all([fiveStarted('passes'), fiveStarted('fails')]);
  for (const name of ['passes', 'fails']) {
    await client.patch(
      SCHEDULE_GVK,
      { namespace: NS, name },
      { type: 'merge', body: { spec: { suspend: true } } },
    );
  }
  const settled = async (name: string, phase: string, keep: number) =>
    waitFor(
      async () => {
        const s = await get(name);
        const all = await runs(name);
        const finished = all.filter((r) => r.status?.phase === phase);
        return (s.status?.activeCount ?? 1) === 0 && all.length === keep && finished.length === keep
          ? { s, finished }
          : undefined;
      },
      { description: `${name}: no run active, ${keep} ${phase} kept`, timeoutMs: 120_000, intervalMs: 250 },
    );
  const passes = await settled('passes', 'Succeeded', 2);
  const fails = await settled('fails', 'Failed', 1);

  // The kept runs are the newest (the first three times' runs are gone), and each run's pod had
  // its scheduled time.
  const all = await runs('passes');
  const kept = passes.finished.map((r) => Date.parse(r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME]!));
  expect(Math.min(...kept)).toBeGreaterThan(Date.parse(passes.s.metadata!.creationTimestamp!) + 3 * 3_000);
  for (const r of passes.finished) {
    const job = await client.get<Job>(JOB_GVK, { namespace: NS, name: r.status!.jobName! });
    const env = job.spec!.template!.spec!.containers![0]!.env!;
    expect(env.find((e) => e.name === 'STEWARD_SCHEDULED_TIME')?.value).toBe(
      r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME],
    );
  }
  expect(passes.s.status?.lastSuccessfulTime).toBeDefined();
  expect(fails.s.status?.lastSuccessfulTime).toBeUndefined();
  // Events are written in the background, after the writes they tell of: waited for.
  for (const name of ['passes', 'fails'])
    await waitForEvents(client, NS, name, ['Started', 'SuccessfulDelete'], { intervalMs: 250 });

  // Deleting the Schedule deletes its runs, and their Jobs, through owner references.
  const jobs = all.map((r) => r.status?.jobName).filter((j): j is string => j !== undefined);
  await client.delete(SCHEDULE_GVK, { namespace: NS, name: 'passes' }, { propagationPolicy: 'Background' });
  await waitFor(async () => (await runs('passes')).length === 0, {
    description: 'the runs garbage-collected',
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  for (const j of jobs) {
    await waitFor(() => client.get(JOB_GVK, { namespace: NS, name: j }).then(() => false, isNotFound), {
      description: `Job ${j} garbage-collected`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  }
});

test('a Schedule of Workflows runs end to end: every task gets STEWARD_SCHEDULED_TIME, history pruned, runs go with the Schedule', async () => {
  const task = (name: string, dependsOn?: string[]) => ({
    name,
    ...(dependsOn ? { dependsOn } : {}),
    session: {
      template: {
        image: 'busybox:1.36',
        annotations: { [FAKE_EXIT_CODE_ANNOTATION]: '0', [FAKE_RUN_SECONDS_ANNOTATION]: '1' },
      },
    },
  });
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Schedule',
    metadata: { namespace: NS, name: 'flows' },
    spec: {
      schedule: '*/4 * * * * *',
      concurrencyPolicy: 'Forbid',
      successfulRunsHistoryLimit: 1,
      workflowTemplate: { spec: { tasks: [task('a'), task('b', ['a'])] } },
    },
  });
  // Three times started, one run Succeeded, then suspended: once none is active, only the newest
  // Workflow is kept.
  await waitFor(
    async () => {
      const s = await get('flows');
      const last = Date.parse(s.status?.lastScheduleTime ?? '') || 0;
      return (
        last - Date.parse(s.metadata!.creationTimestamp!) >= 3 * 4_000 &&
        s.status?.lastSuccessfulTime !== undefined
      );
    },
    { description: 'flows: three Workflows started, one Succeeded', timeoutMs: 120_000, intervalMs: 250 },
  );
  await client.patch(
    SCHEDULE_GVK,
    { namespace: NS, name: 'flows' },
    { type: 'merge', body: { spec: { suspend: true } } },
  );
  const kept = await waitFor(
    async () => {
      const s = await get('flows');
      const all = await runs('flows', WORKFLOW_GVK);
      if ((s.status?.activeCount ?? 1) === 0 && all.length === 1 && all[0]!.status?.phase === 'Succeeded')
        return all[0]!;
      // What the wait saw, for the timeout's message.
      throw new Error(
        `active ${s.status?.activeCount}, conditions ${JSON.stringify(s.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}, runs ${JSON.stringify(all.map((w) => [w.metadata!.name, w.status?.phase, (w.status as { reason?: string })?.reason]))}`,
      );
    },
    { description: 'flows: no run active, one Succeeded Workflow kept', timeoutMs: 120_000, intervalMs: 250 },
  );
  await waitForEvents(client, NS, 'flows', ['SuccessfulDelete']);

  // Each task's pod had the Workflow's scheduled time.
  const wf = kept.metadata!.name!;
  const scheduled = kept.metadata!.annotations![ANNOTATION_SCHEDULED_TIME];
  expect(scheduled).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const sessions: string[] = [];
  for (const t of ['a', 'b']) {
    const session = await client.get<Session>(SESSION_GVK, { namespace: NS, name: taskSessionName(wf, t) });
    expect(session.status?.phase).toBe('Succeeded');
    sessions.push(session.metadata!.name!);
    const job = await client.get<Job>(JOB_GVK, { namespace: NS, name: session.status!.jobName! });
    const env = job.spec!.template!.spec!.containers![0]!.env!;
    expect(env.find((e) => e.name === 'STEWARD_SCHEDULED_TIME')?.value).toBe(scheduled);
  }

  // Deleting the Schedule deletes its Workflow, whose task Sessions go with it.
  await client.delete(SCHEDULE_GVK, { namespace: NS, name: 'flows' }, { propagationPolicy: 'Background' });
  await waitFor(async () => (await runs('flows', WORKFLOW_GVK)).length === 0, {
    description: 'the Workflow runs garbage-collected',
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  for (const name of sessions) {
    await waitFor(() => client.get(SESSION_GVK, { namespace: NS, name }).then(() => false, isNotFound), {
      description: `task Session ${name} garbage-collected`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  }
});

test('Replace with Workflow runs: the active Workflow is cancelled (its running task with it) and the new one starts', async () => {
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Schedule',
    metadata: { namespace: NS, name: 'replaced' },
    spec: {
      schedule: '*/5 * * * * *',
      concurrencyPolicy: 'Replace',
      workflowTemplate: {
        spec: {
          tasks: [
            {
              name: 'long',
              session: {
                template: {
                  image: 'busybox:1.36',
                  annotations: { [FAKE_EXIT_CODE_ANNOTATION]: '0', [FAKE_RUN_SECONDS_ANNOTATION]: '600' },
                },
              },
            },
          ],
        },
      },
    },
  });
  // The first Workflow's task running, then the next time replaces it.
  const first = await waitFor(
    async () => {
      const [wf] = await runs('replaced', WORKFLOW_GVK);
      if (wf === undefined) return undefined;
      const task = await client
        .get<Session>(SESSION_GVK, { namespace: NS, name: taskSessionName(wf.metadata!.name!, 'long') })
        .catch(() => undefined);
      return task?.status?.phase === 'Running' ? wf : undefined;
    },
    { description: 'replaced: the first Workflow’s task Running', timeoutMs: 60_000, intervalMs: 250 },
  );
  const name = first.metadata!.name!;
  const cancelled = await waitFor(
    async () => {
      const all = await runs('replaced', WORKFLOW_GVK);
      const old = all.find((w) => w.metadata!.name === name);
      return all.length >= 2 && old?.status?.phase === 'Cancelled' ? all : undefined;
    },
    {
      description: 'replaced: the first Workflow Cancelled, a second started',
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  await client.patch(
    SCHEDULE_GVK,
    { namespace: NS, name: 'replaced' },
    { type: 'merge', body: { spec: { suspend: true } } },
  );
  const task = await client.get<Session>(SESSION_GVK, { namespace: NS, name: taskSessionName(name, 'long') });
  expect(task.spec?.cancel).toBe(true);
  await waitFor(
    async () =>
      (await client.get<Session>(SESSION_GVK, { namespace: NS, name: taskSessionName(name, 'long') })).status
        ?.phase === 'Cancelled',
    { description: 'the replaced Workflow’s task Session Cancelled', timeoutMs: 60_000, intervalMs: 250 },
  );
  expect(cancelled.map((w) => w.metadata!.name).sort()[1]).not.toBe(name);
  await waitForEvents(client, NS, 'replaced', ['Replaced']);
  await client.delete(SCHEDULE_GVK, { namespace: NS, name: 'replaced' }, { propagationPolicy: 'Background' });
});
