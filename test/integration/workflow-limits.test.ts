// Workflows at the API's limits, against a real kube-apiserver and etcd: the biggest statuses
// the schema allows a Workflow to need (1,000 tasks, the longest names, every task failing with
// the longest message a Session writes) and the longest messages the controller itself makes
// (a cycle through 1,000 tasks) must still be written, so that every Workflow ends in a phase.
// Only the Workflow controller runs; the test plays the Session controller by writing the
// Sessions' statuses.
import { MAX_MESSAGE_LENGTH, type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { setupWorkflowController } from '../../controllers/workflow/index.js';
import { KubeClient, Manager } from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor } from '../../lib/testing/index.js';
import { createWorkflow, fake, installWorkflowCRDs, waitWorkflow } from './workflow-helpers.js';

const NS = 'limits';
// etcd's default --max-request-bytes: no object (spec, status and metadata) may be larger.
const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

let cp: ControlPlane;
let client: KubeClient;
let stop: () => Promise<void>;

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 1000, burst: 1000 });
  await installWorkflowCRDs(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const mgr = await Manager.create({
    kubeConfig: cp.kubeConfig,
    namespaces: [NS],
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    qps: 1000,
    burst: 1000,
  });
  setupWorkflowController(mgr, { runnerImage: 'runner:test' });
  const ac = new AbortController();
  const done = mgr.start(ac.signal);
  stop = async () => {
    ac.abort();
    await done;
  };
});
afterAll(async () => {
  await stop?.();
  client?.close();
  await cp?.stop();
});

// 63 characters, the longest a name may be: the workflow's and each task's.
const longName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(4, '0')}-`.padEnd(63, 'x');
const objectBytes = (o: unknown) => Buffer.byteLength(JSON.stringify(o));

test('a cycle through 1,000 long-named tasks ends Failed InvalidSpec, its message cut to fit', async () => {
  const n = 1000;
  const names = Array.from({ length: n }, (_, i) => longName('t', i));
  const tasks = names.map((name, i) => ({ name, dependsOn: [names[(i + 1) % n]!], session: fake() }));
  await createWorkflow(client, NS, 'cycle', { tasks });
  const wf = await waitWorkflow(client, NS, 'cycle');
  expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
  const message = wf.status!.message!;
  expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  expect(message).toMatch(new RegExp(`^dependency cycle: ${names[0]} → ${names[1]} → `));
  expect(message).toMatch(/characters truncated\]$/);
  expect(wf.status?.conditions?.find((c) => c.type === 'Finished')).toMatchObject({
    status: 'True',
    reason: 'Failed',
  });
});

test('1,000 long-named tasks each failing with the longest message: the status fits etcd and is written', async () => {
  const n = 1000;
  const wfName = longName('w', 0);
  const tasks = Array.from({ length: n }, (_, i) => ({ name: longName('t', i), session: fake() }));
  await createWorkflow(client, NS, wfName, { onFailure: 'Continue', tasks });
  await waitFor(async () => (await client.list(SESSION_GVK, { namespace: NS })).items.length === n, {
    description: `${n} task Sessions`,
    timeoutMs: 120_000,
    intervalMs: 200,
  });
  // Every task fails as a Session can: the longest reason and message its schema allows.
  const sessions = (await client.list<Session>(SESSION_GVK, { namespace: NS })).items;
  const reason = `E${'x'.repeat(1023)}`;
  const message = 'm'.repeat(MAX_MESSAGE_LENGTH);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await finishSessions(sessions, {
    phase: 'Failed',
    attempt: 1,
    exitCode: 1,
    reason,
    message,
    completionTime: now,
  });
  const wf = await waitWorkflow(client, NS, wfName, undefined, 120_000);
  expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'TaskFailed', progress: `${n}/${n}` });
  expect(Object.values(wf.status!.tasks!).every((t) => t.phase === 'Failed')).toBe(true);
  expect(objectBytes(wf)).toBeLessThan(ETCD_MAX_REQUEST_BYTES);
  // Each task keeps the start of its message, marked as cut.
  const first = Object.values(wf.status!.tasks!)[0]!;
  expect(first.message).toMatch(/^m+ … \[\d+ more characters truncated\]$/);
  expect(wf.status!.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
}, 240_000);

test('a spec so large that no full status fits: task entries compact, the Workflow still ends', async () => {
  const n = 1000;
  const session = { template: { image: 'busybox:1.36', command: ['echo'], args: ['a'.repeat(1330)] } };
  const tasks = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, session }));
  await createWorkflow(client, NS, 'huge', { tasks });
  const sessions = await waitFor(
    async () => {
      const list = await client.list<Session>(SESSION_GVK, {
        namespace: NS,
        labelSelector: { 'steward.dev/workflow': 'huge' },
      });
      return list.items.length === n ? list.items : undefined;
    },
    { description: `${n} task Sessions`, timeoutMs: 120_000, intervalMs: 200 },
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await finishSessions(sessions, {
    phase: 'Succeeded',
    attempt: 1,
    exitCode: 0,
    reason: 'Completed',
    completionTime: now,
  });
  const wf = await waitWorkflow(client, NS, 'huge', undefined, 120_000);
  expect(wf.status).toMatchObject({ phase: 'Succeeded', progress: `${n}/${n}` });
  expect(wf.status?.tasks?.t0).toEqual({ phase: 'Succeeded', session: 'huge-t0' });
  expect(wf.status?.message).toContain('task details left out of status.tasks');
  expect(objectBytes(wf)).toBeLessThan(ETCD_MAX_REQUEST_BYTES);
}, 240_000);

/** Writes `status` to every Session at once (32 at a time), as the Session controller would. */
async function finishSessions(sessions: Session[], status: object): Promise<void> {
  const queue = [...sessions];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let s = queue.pop(); s !== undefined; s = queue.pop()) {
        await client.patchStatus(
          SESSION_GVK,
          { namespace: NS, name: s.metadata!.name! },
          { type: 'merge', body: { status } },
        );
      }
    }),
  );
}
