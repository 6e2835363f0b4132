// A cluster where only the Workflow CRD was applied, not the tasks-immutable
// ValidatingAdmissionPolicy beside it (manifests/crd): the API server then lets spec.tasks
// change, and the controller must not go on running a DAG its status does not describe.
import { join } from 'node:path';
import {
  ANNOTATION_TASK,
  ANNOTATION_UPSTREAM,
  ANNOTATION_WORKFLOW,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  type Session,
  SESSION_GVK,
} from '../../controllers/session/index.js';
import {
  LABEL_TASK,
  LABEL_WORKFLOW,
  taskSessionName,
  type Workflow,
  WORKFLOW_GVK,
} from '../../controllers/workflow/index.js';
import { KubeClient, setControllerReference } from '../../lib/index.js';
import { type ControlPlane, installCRDs, startControlPlane, waitFor } from '../../lib/testing/index.js';
import { fake, playJobs, ROOT, startOperator, waitWorkflow } from './workflow-helpers.js';

const NS = 'changed';

let cp: ControlPlane;
let client: KubeClient;
let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
let player: ReturnType<typeof playJobs> | undefined;

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 200, burst: 400 });
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
  ]);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  operator = await startOperator(cp.kubeConfig, [NS]);
  player = playJobs(client, NS);
}, 120_000);

afterAll(async () => {
  await player?.stop();
  await operator?.stop();
  client?.close();
  await cp?.stop();
});

/** Waits for Workflow `edited` in `ns` to end, and checks it ended as a tasks-changed one, its tasks so. */
async function endsTasksChanged(ns: string, phases: Record<string, string>): Promise<void> {
  const wf = await waitWorkflow(client, ns, 'edited', ['Succeeded', 'Failed', 'Cancelled']);
  expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
  expect(wf.status?.message).toContain('spec.tasks changed after the Workflow started');
  expect(Object.fromEntries(Object.entries(wf.status!.tasks!).map(([k, v]) => [k, v.phase]))).toEqual(phases);
}

test('without the policy, tasks changed mid-run end the Workflow Failed (InvalidSpec); the running task is cancelled', async () => {
  const key = { namespace: NS, name: 'edited' };
  const tasks = [
    { name: 'first', session: fake() },
    { name: 'slow', dependsOn: ['first'], session: fake({ seconds: 300 }) },
    { name: 'last', dependsOn: ['slow'], session: fake() },
  ];
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Workflow',
    metadata: key,
    spec: { tasks },
  });
  const running = await waitFor(
    async () => {
      const wf = await client.get<Workflow>(WORKFLOW_GVK, key);
      return wf.status?.tasks?.slow?.phase === 'Running' ? wf : undefined;
    },
    { description: 'task slow Running', timeoutMs: 60_000, intervalMs: 50 },
  );
  expect(running.status?.tasksDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  // Nothing refuses this here: no ValidatingAdmissionPolicy is installed.
  await client.patch(WORKFLOW_GVK, key, {
    type: 'merge',
    body: { spec: { tasks: [...tasks, { name: 'added', dependsOn: ['first'], session: fake() }] } },
  });
  await endsTasksChanged(NS, { first: 'Succeeded', slow: 'Cancelled', last: 'Skipped' });
  const sessions = await client.list<Session>(SESSION_GVK, { namespace: NS });
  expect(sessions.items.map((s) => s.metadata!.name).sort()).toEqual(['edited-first', 'edited-slow']);
  expect(sessions.items.find((s) => s.metadata!.name === 'edited-slow')?.spec?.cancel).toBe(true);
}, 120_000);

test('an operator that died between its first Session creates and its first status write, the tasks edited meanwhile: Failed, its Sessions cancelled', async () => {
  // Its own namespace, watched by no operator until the end: the state a process killed right
  // after creating the root tasks' Sessions leaves behind, then an edit while it is down.
  const ns = 'changed-down';
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const key = { namespace: ns, name: 'edited' };
  const tasks = [
    { name: 'kept', session: fake({ seconds: 300 }) },
    { name: 'gone', session: fake({ seconds: 300 }) },
  ];
  const wf = await client.create<Workflow>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Workflow',
    metadata: key,
    spec: { tasks },
  });
  for (const t of tasks) {
    const session = setControllerReference(wf, {
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: {
        namespace: ns,
        name: taskSessionName('edited', t.name),
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_WORKFLOW]: 'edited', [LABEL_TASK]: t.name },
        annotations: {
          [ANNOTATION_WORKFLOW]: 'edited',
          [ANNOTATION_TASK]: t.name,
          [ANNOTATION_UPSTREAM]: '{}',
        },
      },
      spec: t.session,
    });
    await client.create(session);
  }
  await client.patch(WORKFLOW_GVK, key, { type: 'merge', body: { spec: { tasks: [tasks[0]] } } });
  const down = await startOperator(cp.kubeConfig, [ns]);
  const jobs = playJobs(client, ns);
  try {
    // The status records the Session of the task the spec no longer names.
    await endsTasksChanged(ns, { kept: 'Cancelled', gone: 'Cancelled' });
    const sessions = await client.list<Session>(SESSION_GVK, { namespace: ns });
    expect(sessions.items.map((s) => [s.metadata!.name, s.spec?.cancel]).sort()).toEqual([
      ['edited-gone', true],
      ['edited-kept', true],
    ]);
  } finally {
    await jobs.stop();
    await down.stop();
  }
}, 120_000);
