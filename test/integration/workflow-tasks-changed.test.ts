// A cluster where only the Workflow CRD was applied, not the tasks-immutable
// ValidatingAdmissionPolicy beside it (manifests/crd): the API server then lets spec.tasks
// change, and the controller must not go on running a DAG its status does not describe.
import { join } from 'node:path';
import { type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { type Workflow, WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { KubeClient } from '../../lib/index.js';
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
  const wf = await waitWorkflow(client, NS, 'edited', ['Succeeded', 'Failed', 'Cancelled']);
  expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
  expect(wf.status?.message).toContain('spec.tasks changed after the Workflow started');
  expect(Object.fromEntries(Object.entries(wf.status!.tasks!).map(([k, v]) => [k, v.phase]))).toEqual({
    first: 'Succeeded',
    slow: 'Cancelled',
    last: 'Skipped',
  });
  const sessions = await client.list<Session>(SESSION_GVK, { namespace: NS });
  expect(sessions.items.map((s) => s.metadata!.name).sort()).toEqual(['edited-first', 'edited-slow']);
  expect(sessions.items.find((s) => s.metadata!.name === 'edited-slow')?.spec?.cancel).toBe(true);
}, 120_000);
