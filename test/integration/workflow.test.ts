// Workflows against a real kube-apiserver: the CRD's schema and CEL rules, and the operator
// (Session and Workflow controllers in this process) with a stand-in for the Job controller and
// the kubelet that honours kwok's fake annotations (see workflow-helpers.ts).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ANNOTATION_UPSTREAM, type Job, type Session, SESSION_GVK } from '../../controllers/session/index.js';
import { taskSessionName, type Workflow, WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { isInvalid, KubeClient } from '../../lib/index.js';
import {
  type ControlPlane,
  installCRDs,
  locateBinaries,
  startControlPlane,
  waitFor,
  waitForEvents,
} from '../../lib/testing/index.js';
import {
  createWorkflow,
  fake,
  installWorkflowCRDs,
  playJobs,
  ROOT,
  startOperator,
  waitWorkflow,
} from './workflow-helpers.js';

const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const NS = 'wf';
// Where no operator runs: Workflows created only to see what the API server says.
const SCHEMA = 'schema';

let cp: ControlPlane;
let client: KubeClient;
let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
let player: ReturnType<typeof playJobs> | undefined;

let withoutWorkflowCrd: { explicit: { status: number | null; stderr: string }; byDefault: string };

/** The manager binary, run with `args` until its log shows `until`; what it logged. */
async function managerUntil(args: string[], until: string): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cmd', 'manager.js'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (logs += d));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => logs.includes(until) || child.exitCode !== null, {
      description: `the manager logging ${until}`,
      timeoutMs: 60_000,
      intervalMs: 50,
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return logs;
}

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  // The operator binary, before the Workflow CRD exists (see the test below).
  await installCRDs(client, [join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml')]);
  const common = [
    '--kubeconfig',
    cp.kubeconfigPath,
    '--metrics-bind-address',
    '0',
    '--health-probe-bind-address',
    '0',
  ];
  withoutWorkflowCrd = {
    explicit: spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'cmd', 'manager.js'), ...common, '--controllers', 'session,workflow'],
      { encoding: 'utf8', timeout: 60_000 },
    ),
    byDefault: await managerUntil(common, 'Starting workers'),
  };
  await installWorkflowCRDs(client);
  for (const name of [NS, 'restart', SCHEMA])
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});
afterAll(async () => {
  await player?.stop();
  await operator?.stop();
  client?.close();
  await cp?.stop();
});

/** The compiled stewardctl, as users run it. */
async function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'dist', 'cmd', 'stewardctl.js'), ...args],
      { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sessionOf = (wf: string, task: string, ns = NS) =>
  client.get<Session>(SESSION_GVK, { namespace: ns, name: taskSessionName(wf, task) });

/** STEWARD_UPSTREAM as the task's first Job hands it to the pod. */
async function upstreamEnv(wf: string, task: string): Promise<unknown> {
  const s = await sessionOf(wf, task);
  const job = await client.get<Job>(JOB, { namespace: NS, name: s.status!.jobName! });
  const env = (
    job.spec!.template!.spec!.containers as Array<{ env: Array<{ name: string; value: string }> }>
  )[0]!.env;
  return JSON.parse(env.find((e) => e.name === 'STEWARD_UPSTREAM')!.value);
}

test('without the Workflow CRD: --controllers naming workflow exits 1 saying so; by default the manager runs without it', () => {
  const { explicit, byDefault } = withoutWorkflowCrd;
  expect(explicit.status).toBe(1);
  const last = JSON.parse(explicit.stderr.trim().split('\n').at(-1)!) as { message: string; error: string };
  expect(last).toMatchObject({
    message: 'Cannot start the workflow controller',
    error: 'the Workflow CRD (steward.dev/v1alpha1) is not installed: kubectl apply -k manifests/crd',
  });
  expect(byDefault).toContain('Not starting the workflow controller');
  expect(byDefault).toContain('Starting workers');
});

describe('the API server enforces the schema', () => {
  async function rejected(spec: object): Promise<string> {
    try {
      await createWorkflow(client, SCHEMA, `bad-${Math.random().toString(36).slice(2, 8)}`, spec);
    } catch (err) {
      expect(isInvalid(err)).toBe(true);
      return (err as Error).message;
    }
    throw new Error('the API server accepted an invalid Workflow');
  }
  const run = fake();

  test('names are DNS labels and unique; dependencies name tasks, never the task itself; 1 to 1,000 tasks', async () => {
    expect(await rejected({ tasks: [{ name: 'Not_A_Label', session: run }] })).toMatch(
      /spec\.tasks\[0\]\.name.*should match/,
    );
    expect(
      await rejected({
        tasks: [
          { name: 'a', session: run },
          { name: 'a', session: run },
        ],
      }),
    ).toMatch(/spec\.tasks: .*key a already exists .*task names must be unique/);
    expect(await rejected({ tasks: [{ name: 'a', dependsOn: ['a'], session: run }] })).toContain(
      'a task cannot depend on itself',
    );
    expect(
      await rejected({
        tasks: [
          { name: 'a', session: run },
          { name: 'b', dependsOn: ['a', 'nope'], session: run },
        ],
      }),
    ).toMatch(/spec\.tasks: Invalid value: every dependsOn entry must name a task of this Workflow/);
    expect(await rejected({ tasks: [] })).toMatch(/spec\.tasks.*at least 1 items/);
    const many = Array.from({ length: 1001 }, (_, i) => ({
      name: `t${i}`,
      session: { template: { image: 'x' } },
    }));
    expect(await rejected({ tasks: many })).toMatch(/spec\.tasks.*at most 1000 items/);
    expect(await rejected({ tasks: [{ name: 'a' }] })).toMatch(/spec\.tasks\[0\]\.session: Required value/);
    expect(
      await rejected({
        tasks: [{ name: 'a', session: { template: { image: 'x', env: [{ name: 'STEWARD_X' }] } } }],
      }),
    ).toContain('env names starting with STEWARD_ are reserved');
    expect(await rejected({ tasks: [{ name: 'a', session: run }], onFailure: 'Sometimes' })).toMatch(
      /spec\.onFailure.*Unsupported value/,
    );
    expect(await rejected({ tasks: [{ name: 'a', session: run }], parallelism: 0 })).toMatch(
      /spec\.parallelism/,
    );
  });

  test('a Workflow of 1,000 tasks fits the CEL cost budget', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      name: `t${i}`,
      dependsOn: i < 2 ? [] : [`t${i - 1}`, `t${i - 2}`],
      session: { template: { image: 'x', env: [{ name: 'A', value: 'b' }], labels: { team: 'x' } } },
    }));
    await client.create(
      {
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Workflow',
        metadata: { namespace: SCHEMA, name: 'big' },
        spec: { tasks },
      },
      { dryRun: true },
    );
  });

  /**
   * Whether a change of the Workflow's tasks is refused: by the ValidatingAdmissionPolicy that
   * installCRDs created, which takes effect a moment later (the API server's policy informer).
   * Each try asks for other tasks, so one that got through before that does not hide the next.
   */
  async function refusesNewTasks(key: { namespace: string; name: string }): Promise<void> {
    let n = 0;
    await waitFor(
      async () => {
        try {
          await client.patch(WORKFLOW_GVK, key, {
            type: 'merge',
            body: { spec: { tasks: [{ name: `changed-${n++}`, session: fake() }] } },
          });
          return false;
        } catch (err) {
          expect(isInvalid(err)).toBe(true);
          expect((err as Error).message).toContain('spec.tasks are immutable');
          return true;
        }
      },
      { description: 'the tasks-immutable policy in effect', timeoutMs: 30_000 },
    );
  }

  test('a Workflow of 1,000 tasks takes status writes and spec updates; its tasks cannot change', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      name: `t${i}`,
      dependsOn: i < 2 ? [] : [`t${i - 1}`, `t${i - 2}`],
      session: { template: { image: 'x', env: [{ name: 'A', value: 'b' }], labels: { team: 'x' } } },
    }));
    const key = { namespace: SCHEMA, name: 'big-updates' };
    // Cancelled from the start: this test is about admission, not about running 1,000 Sessions.
    await client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Workflow',
      metadata: key,
      spec: { cancel: true, tasks },
    });
    await refusesNewTasks(key);
    // The policy compares the 1,000 tasks within its cost budget, and the create-only rules
    // over the task list do not stand in the way of an update.
    const wf = await client.patch<Workflow>(WORKFLOW_GVK, key, {
      type: 'merge',
      body: { spec: { parallelism: 7 } },
    });
    expect(wf.spec!.parallelism).toBe(7);
    expect(wf.spec!.tasks).toHaveLength(1000);
    const labelled = await client.patch<Workflow>(WORKFLOW_GVK, key, {
      type: 'merge',
      body: { metadata: { labels: { edited: 'yes' } } },
    });
    expect(labelled.metadata!.labels).toMatchObject({ edited: 'yes' });
    await client.delete(WORKFLOW_GVK, key);
  });

  test('tasks and onFailure are immutable; cancel cannot be undone', async () => {
    await client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Workflow',
      metadata: { namespace: SCHEMA, name: 'immutable' },
      spec: { cancel: true, tasks: [{ name: 'a', session: fake({ seconds: 600 }) }] },
    });
    const key = { namespace: SCHEMA, name: 'immutable' };
    const patch = (spec: object) => client.patch(WORKFLOW_GVK, key, { type: 'merge', body: { spec } });
    await refusesNewTasks(key);
    await expect(patch({ onFailure: 'Continue' })).rejects.toThrow(/onFailure is immutable/);
    await expect(patch({ cancel: false })).rejects.toThrow(/cancel cannot be set back to false/);
    await patch({ parallelism: 3 });
  });

  test('kubectl shows PHASE, PROGRESS and AGE; wf is a short name; Workflows are in category steward', async () => {
    const kubectl = locateBinaries().kubectl;
    await createWorkflow(client, SCHEMA, 'columns', {
      tasks: [{ name: 'a', session: fake({ seconds: 600 }) }],
    });
    const run = async (...args: string[]) =>
      (await promisify(execFile)(kubectl, ['--kubeconfig', cp.kubeconfigPath, '-n', SCHEMA, ...args])).stdout;
    expect((await run('get', 'wf', 'columns')).split('\n')[0]!.split(/\s+/)).toEqual([
      'NAME',
      'PHASE',
      'PROGRESS',
      'AGE',
    ]);
    expect(await run('get', 'steward', '-o', 'name')).toContain('workflow.steward.dev/columns');
  });
});

describe('with the operator running', () => {
  beforeAll(async () => {
    operator = await startOperator(cp.kubeConfig, [NS]);
    player = playJobs(client, NS);
  });

  test('a diamond: results passed downstream as STEWARD_UPSTREAM, then Succeeded', async () => {
    await createWorkflow(client, NS, 'diamond', {
      tasks: [
        { name: 'a', session: fake({ result: 'A' }) },
        { name: 'b', dependsOn: ['a'], session: fake({ result: 'B' }) },
        { name: 'c', dependsOn: ['a'], session: fake({ result: '{"rows":3}' }) },
        { name: 'd', dependsOn: ['b', 'c'], session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'diamond');
    expect(wf.status).toMatchObject({ phase: 'Succeeded', progress: '4/4', reason: 'AllTasksSucceeded' });
    expect((await sessionOf('diamond', 'a')).status?.result).toBe('A');
    expect(await upstreamEnv('diamond', 'a')).toEqual({});
    expect(await upstreamEnv('diamond', 'b')).toEqual({ a: 'A' });
    expect(await upstreamEnv('diamond', 'd')).toEqual({ b: 'B', c: '{"rows":3}' });
    expect((await sessionOf('diamond', 'd')).metadata?.annotations?.[ANNOTATION_UPSTREAM]).toBe(
      '{"b":"B","c":"{\\"rows\\":3}"}',
    );
    // Each task started after its dependencies finished.
    const t = async (task: string) =>
      Date.parse((await sessionOf('diamond', task)).metadata!.creationTimestamp!);
    const done = async (task: string) =>
      Date.parse((await sessionOf('diamond', task)).status!.completionTime!);
    expect(await t('b')).toBeGreaterThanOrEqual(await done('a'));
    expect(await t('d')).toBeGreaterThanOrEqual(Math.max(await done('b'), await done('c')));
    // Written in the background after the status writes: waited for, not listed once.
    await waitForEvents(client, NS, 'diamond', ['TaskStarted', 'TaskSucceeded', 'AllTasksSucceeded']);
  });

  test('onFailure Stop: nothing starts after the failure, the running task finishes, the rest Skipped', async () => {
    await createWorkflow(client, NS, 'stop', {
      tasks: [
        { name: 'fails', session: fake({ exit: 3 }) },
        { name: 'slow', session: fake({ seconds: 2 }) },
        { name: 'after-fails', dependsOn: ['fails'], session: fake() },
        { name: 'after-slow', dependsOn: ['slow'], session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'stop');
    expect(wf.status?.phase).toBe('Failed');
    expect(wf.status?.tasks).toMatchObject({
      fails: { phase: 'Failed', reason: 'ExitCode', exitCode: 3 },
      slow: { phase: 'Succeeded' },
      'after-fails': { phase: 'Skipped', reason: 'UpstreamFailed' },
      'after-slow': { phase: 'Skipped', reason: 'Stopped' },
    });
    expect(wf.status?.message).toContain('Task fails failed (ExitCode)');
    const sessions = (
      await client.list<Session>(SESSION_GVK, {
        namespace: NS,
        labelSelector: { 'steward.dev/workflow': 'stop' },
      })
    ).items;
    expect(sessions.map((s) => s.metadata!.labels!['steward.dev/task']).sort()).toEqual(['fails', 'slow']);
  });

  test('onFailure Continue: the failed branch is Skipped, the independent one completes', async () => {
    await createWorkflow(client, NS, 'continue', {
      onFailure: 'Continue',
      tasks: [
        { name: 'fails', session: fake({ exit: 2 }) },
        { name: 'below', dependsOn: ['fails'], session: fake() },
        { name: 'further-below', dependsOn: ['below'], session: fake() },
        { name: 'other', session: fake() },
        { name: 'after-other', dependsOn: ['other'], session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'continue');
    expect(wf.status?.phase).toBe('Failed');
    const phases = Object.fromEntries(Object.entries(wf.status!.tasks!).map(([k, v]) => [k, v.phase]));
    expect(phases).toEqual({
      fails: 'Failed',
      below: 'Skipped',
      'further-below': 'Skipped',
      other: 'Succeeded',
      'after-other': 'Succeeded',
    });
  });

  test('retries inside a task: attempt 1 fails, attempt 2 succeeds, the Workflow goes on', async () => {
    await createWorkflow(client, NS, 'retries', {
      tasks: [
        {
          name: 'flaky',
          session: {
            ...fake({ exit: '5,0', result: 'ok' }),
            retry: { limit: 2, backoff: { initialSeconds: 0 } },
          },
        },
        { name: 'next', dependsOn: ['flaky'], session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'retries');
    expect(wf.status?.phase).toBe('Succeeded');
    expect(wf.status?.tasks?.flaky).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    const jobs = (
      await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'retries-flaky' } })
    ).items;
    expect(jobs.map((j) => j.metadata!.name).sort()).toEqual(['retries-flaky-1', 'retries-flaky-2']);
    expect(await upstreamEnv('retries', 'next')).toEqual({ flaky: 'ok' });
  });

  test('parallelism 2: never more than two tasks running, seen live and in the Sessions’ timestamps', async () => {
    const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    await createWorkflow(client, NS, 'parallel', {
      parallelism: 2,
      tasks: names.map((name) => ({ name, session: fake({ seconds: 1.5 }) })),
    });
    let most = 0;
    await waitFor(
      async () => {
        const items = (
          await client.list<Session>(SESSION_GVK, {
            namespace: NS,
            labelSelector: { 'steward.dev/workflow': 'parallel' },
          })
        ).items;
        most = Math.max(most, items.filter((s) => !s.status?.completionTime).length);
        const wf = await client.get<Workflow>(WORKFLOW_GVK, { namespace: NS, name: 'parallel' });
        return wf.status?.phase === 'Succeeded';
      },
      { description: 'parallel Succeeded', timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(most).toBe(2);
    // From the timestamps: at no instant more than two Sessions between creation and completion.
    const items = (
      await client.list<Session>(SESSION_GVK, {
        namespace: NS,
        labelSelector: { 'steward.dev/workflow': 'parallel' },
      })
    ).items;
    const spans = items.map((s) => [
      Date.parse(s.metadata!.creationTimestamp!),
      Date.parse(s.status!.completionTime!),
    ]);
    for (const [at] of spans) {
      const overlapping = spans.filter(([start, end]) => start! <= at! && at! < end!).length;
      expect(overlapping).toBeLessThanOrEqual(2);
    }
  });

  test('cancel mid-flight: the running task’s Session and Job are cancelled, the rest Cancelled', async () => {
    await createWorkflow(client, NS, 'cancel', {
      tasks: [
        { name: 'long', session: fake({ seconds: 600 }) },
        { name: 'after', dependsOn: ['long'], session: fake() },
      ],
    });
    await waitFor(
      async () => (await sessionOf('cancel', 'long').catch(() => undefined))?.status?.phase === 'Running',
      {
        description: 'the long task running',
        intervalMs: 50,
      },
    );
    await client.patch(
      WORKFLOW_GVK,
      { namespace: NS, name: 'cancel' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    const wf = await waitWorkflow(client, NS, 'cancel');
    expect(wf.status).toMatchObject({
      phase: 'Cancelled',
      tasks: { long: { phase: 'Cancelled' }, after: { phase: 'Cancelled', reason: 'Cancelled' } },
    });
    expect((await sessionOf('cancel', 'long')).status?.phase).toBe('Cancelled');
    await waitFor(
      async () =>
        (await client.list(JOB, { namespace: NS, labelSelector: { 'steward.dev/session': 'cancel-long' } }))
          .items.length === 0,
      {
        description: 'the Job deleted',
      },
    );
  });

  test('a task refused by the tenant policy fails with reason PolicyViolation; the rest goes on (Continue)', async () => {
    const refused = {
      ...fake(),
      template: { ...(fake() as { template: object }).template, serviceAccountName: 'admin' },
    };
    await createWorkflow(client, NS, 'policy', {
      onFailure: 'Continue',
      tasks: [
        { name: 'refused', session: refused },
        { name: 'below', dependsOn: ['refused'], session: fake() },
        { name: 'other', session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'policy');
    expect(wf.status).toMatchObject({
      phase: 'Failed',
      reason: 'TaskFailed',
      tasks: {
        refused: { phase: 'Failed', reason: 'PolicyViolation' },
        below: { phase: 'Skipped', reason: 'UpstreamFailed' },
        other: { phase: 'Succeeded' },
      },
    });
    expect(wf.status?.tasks?.refused?.message).toContain('admin');
    expect(wf.status?.message).toContain('Task refused failed (PolicyViolation)');
  });

  test('a task’s Session deleted mid-run: the task fails SessionDeleted, and nothing runs it again', async () => {
    await createWorkflow(client, NS, 'deleted', {
      tasks: [
        { name: 'long', session: fake({ seconds: 600 }) },
        { name: 'after', dependsOn: ['long'], session: fake() },
      ],
    });
    await waitFor(
      async () => (await sessionOf('deleted', 'long').catch(() => undefined))?.status?.phase === 'Running',
      { description: 'the long task running', intervalMs: 50 },
    );
    const uid = (await sessionOf('deleted', 'long')).metadata!.uid;
    await client.delete(SESSION_GVK, { namespace: NS, name: taskSessionName('deleted', 'long') });
    const wf = await waitWorkflow(client, NS, 'deleted');
    expect(wf.status).toMatchObject({
      phase: 'Failed',
      tasks: {
        long: { phase: 'Failed', reason: 'SessionDeleted' },
        after: { phase: 'Skipped', reason: 'UpstreamFailed' },
      },
    });
    const left = await client.list<Session>(SESSION_GVK, {
      namespace: NS,
      labelSelector: { 'steward.dev/workflow': 'deleted' },
    });
    // Gone, or (the delete not yet through) the same one: never a second Session for the task.
    expect(left.items.every((s) => s.metadata?.uid === uid)).toBe(true);
  });

  test('results too large for STEWARD_UPSTREAM together: the task below fails UpstreamTooLarge, no pod made', async () => {
    const parents = Array.from({ length: 34 }, (_, i) => ({
      name: `p${i}`,
      session: fake({ result: 'r'.repeat(4000) }),
    }));
    await createWorkflow(client, NS, 'upstream', {
      tasks: [...parents, { name: 'sink', dependsOn: parents.map((p) => p.name), session: fake() }],
    });
    const wf = await waitWorkflow(client, NS, 'upstream');
    expect(wf.status).toMatchObject({
      phase: 'Failed',
      tasks: { p0: { phase: 'Succeeded' }, sink: { phase: 'Failed', reason: 'UpstreamTooLarge' } },
    });
    expect((await sessionOf('upstream', 'p0')).status?.result).toHaveLength(4000);
    await expect(sessionOf('upstream', 'sink')).rejects.toThrow(/not found/);
  });

  test('stewardctl: submit -f a Workflow --wait exits 0 or 1 on its outcome; describe draws its DAG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stewardctl-wf-'));
    const write = (name: string, tasks: object[]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'steward.dev/v1alpha1',
          kind: 'Workflow',
          metadata: { name },
          spec: { tasks },
        }),
      );
      return file;
    };
    const ok = await ctl(
      'submit',
      '-n',
      NS,
      '-f',
      write('cli-ok', [
        { name: 'a', session: fake() },
        { name: 'b', dependsOn: ['a'], session: fake() },
      ]),
      '--wait',
    );
    expect([ok.code, ok.stdout.split('\n')[0]]).toEqual([0, 'workflow/cli-ok created']);
    expect(ok.stdout).toMatch(/cli-ok {2}Succeeded {2}2\/2 {2}AllTasksSucceeded/);
    const bad = await ctl(
      'submit',
      '-n',
      NS,
      '-f',
      write('cli-bad', [
        { name: 'a', session: fake({ exit: 4 }) },
        { name: 'b', dependsOn: ['a'], session: fake() },
      ]),
      '--wait',
    );
    expect([bad.code, bad.stderr]).toEqual([1, 'stewardctl: workflow cli-bad ended Failed\n']);
    const described = await ctl('describe', '-n', NS, 'wf/cli-bad');
    expect(described.code).toBe(0);
    expect(described.stdout).toContain('DAG (2 tasks in 2 levels):');
    expect(described.stdout).toMatch(/✗ a\s+Failed\s+\S+\s+ExitCode/);
    expect(described.stdout).toMatch(/⊘ b\s+Skipped\s+a\s+UpstreamFailed/);
    const listed = await ctl('list', 'wf', '-n', NS);
    expect(listed.stdout).toMatch(/\ncli-bad\s+Failed\s+2\/2\s/);
  });

  test('an invalid graph ends Failed with reason InvalidSpec and the cycle spelled out', async () => {
    await createWorkflow(client, NS, 'cycle', {
      tasks: [
        { name: 'a', dependsOn: ['c'], session: fake() },
        { name: 'b', dependsOn: ['a'], session: fake() },
        { name: 'c', dependsOn: ['b'], session: fake() },
      ],
    });
    const wf = await waitWorkflow(client, NS, 'cycle');
    expect(wf.status).toMatchObject({
      phase: 'Failed',
      reason: 'InvalidSpec',
      message: 'dependency cycle: a → c → b → a',
    });
    // A dependency on a task that is not there never gets this far: the API server refuses it
    // (and the controller, for a Workflow that bypassed the CRD, ends it InvalidSpec naming it).
    await expect(
      createWorkflow(client, NS, 'unknown', { tasks: [{ name: 'a', dependsOn: ['nope'], session: fake() }] }),
    ).rejects.toThrow(/every dependsOn entry must name a task of this Workflow/);
  });
});

describe('restart safety', () => {
  test('the operator stopped mid-workflow and another started: every task ran exactly once', async () => {
    const ns = 'restart';
    const first = await startOperator(cp.kubeConfig, [ns]);
    const play = playJobs(client, ns);
    try {
      const tasks = Array.from({ length: 30 }, (_, i) => ({
        name: `t${i}`,
        dependsOn: i < 10 ? [] : [`t${i - 10}`],
        session: fake({ seconds: 0.3 }),
      }));
      await createWorkflow(client, ns, 'layers', { parallelism: 6, tasks });
      await waitFor(async () => (await client.list(SESSION_GVK, { namespace: ns })).items.length >= 8, {
        description: 'some tasks started',
        intervalMs: 20,
      });
      await first.stop();
      const uids = new Map(
        (await client.list<Session>(SESSION_GVK, { namespace: ns })).items.map((s) => [
          s.metadata!.name!,
          s.metadata!.uid!,
        ]),
      );
      const second = await startOperator(cp.kubeConfig, [ns]);
      try {
        const wf = await waitWorkflow(client, ns, 'layers', undefined, 90_000);
        expect(wf.status?.phase).toBe('Succeeded');
      } finally {
        await second.stop();
      }
      const sessions = (await client.list<Session>(SESSION_GVK, { namespace: ns })).items;
      expect(sessions).toHaveLength(30);
      for (const s of sessions) {
        expect(s.status?.attempt).toBe(1);
        if (uids.has(s.metadata!.name!)) expect(s.metadata!.uid).toBe(uids.get(s.metadata!.name!));
      }
      const jobs = (await client.list(JOB, { namespace: ns })).items.map((j) => j.metadata!.name!).sort();
      expect(jobs).toEqual(sessions.map((s) => `${s.metadata!.name}-1`).sort());
    } finally {
      await play.stop();
    }
  });
});
