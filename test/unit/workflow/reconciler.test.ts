import { isNotFound } from '../../../lib/index.js';
import { ANNOTATION_UPSTREAM, SESSION_GVK } from '../../../controllers/session/index.js';
import {
  MAX_UPSTREAM_BYTES,
  RECONCILE_SPACING_PER_TASK_MS,
  taskSessionName,
  tasksDigest,
  WORKFLOW_GVK,
} from '../../../controllers/workflow/index.js';
import { Harness, RUN, tasks } from './harness.js';

const DIAMOND = tasks('a', ['b', ['a']], ['c', ['a']], ['d', ['b', 'c']]);
const upstreamOf = async (h: Harness, wf: string, task: string) =>
  JSON.parse((await h.session(wf, task)).metadata!.annotations![ANNOTATION_UPSTREAM]!) as unknown;

describe('Workflow reconciler: a diamond', () => {
  test('tasks start in dependency order, results flow downstream, then Succeeded', async () => {
    const h = new Harness();
    const created = await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a']);
    const a = await h.session('wf', 'a');
    expect(a.metadata?.labels).toMatchObject({
      'steward.dev/workflow': 'wf',
      'steward.dev/task': 'a',
      'app.kubernetes.io/managed-by': 'steward',
    });
    expect(a.metadata?.annotations).toMatchObject({
      'steward.dev/workflow': 'wf',
      'steward.dev/task': 'a',
      'steward.dev/upstream': '{}',
    });
    expect(a.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Workflow', name: 'wf', uid: created.metadata!.uid, controller: true }),
    ]);
    expect(a.spec).toEqual(RUN);
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Running', reason: 'TasksRunning', progress: '0/4' });
    expect(wf.status?.tasks).toEqual({
      a: { phase: 'Running', session: 'wf-a', startTime: '2026-01-01T00:00:00Z' },
      b: { phase: 'Pending' },
      c: { phase: 'Pending' },
      d: { phase: 'Pending' },
    });

    await h.succeed('wf', 'a', 'A');
    h.clock.step(1_000);
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
    expect(await upstreamOf(h, 'wf', 'b')).toEqual({ a: 'A' });
    expect(await upstreamOf(h, 'wf', 'c')).toEqual({ a: 'A' });
    expect((await h.workflow('wf')).status?.tasks?.a).toMatchObject({
      phase: 'Succeeded',
      exitCode: 0,
      attempt: 1,
    });

    await h.succeed('wf', 'b', 'B');
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
    await h.succeed('wf', 'c', '{"n":3}');
    await h.reconcile('wf');
    // Results are strings, as the containers wrote them.
    expect(await upstreamOf(h, 'wf', 'd')).toEqual({ b: 'B', c: '{"n":3}' });
    await h.succeed('wf', 'd');
    h.clock.step(1_000);
    await h.reconcile('wf');
    wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({
      phase: 'Succeeded',
      reason: 'AllTasksSucceeded',
      progress: '4/4',
      startTime: '2026-01-01T00:00:00Z',
      completionTime: '2026-01-01T00:00:02Z',
      observedGeneration: 1,
    });
    expect(wf.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Running', 'False', 'AllTasksSucceeded'],
      ['Finished', 'True', 'Succeeded'],
    ]);

    // Terminal is stable: further reconciles write nothing.
    const rv = wf.metadata?.resourceVersion;
    await h.reconcile('wf');
    await h.reconcile('wf');
    expect((await h.workflow('wf')).metadata?.resourceVersion).toBe(rv);
    expect(h.events.map((e) => e.reason)).toEqual([
      'TaskStarted',
      'TasksRunning',
      'TaskSucceeded',
      'TaskStarted',
      'TaskStarted',
      'TaskSucceeded',
      'TaskSucceeded',
      'TaskStarted',
      'TaskSucceeded',
      'AllTasksSucceeded',
    ]);
    const metrics = await h.registry.metrics();
    expect(metrics).toContain('steward_workflows_total{namespace="ns"} 1');
    expect(metrics).toContain('steward_workflows_completed_total{namespace="ns",final_phase="Succeeded"} 1');
    expect(metrics).toContain(
      'steward_workflow_duration_seconds_count{namespace="ns",final_phase="Succeeded"} 1',
    );
    expect(metrics).toContain('steward_workflow_tasks_completed_total{namespace="ns",phase="Succeeded"} 4');
    expect(metrics).toContain('steward_workflow_tasks{namespace="ns",phase="Running"} 0');
  });

  test('the tasks gauge counts the tasks of running Workflows only', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    let metrics = await h.registry.metrics();
    expect(metrics).toContain('steward_workflow_tasks{namespace="ns",phase="Running"} 1');
    expect(metrics).toContain('steward_workflow_tasks{namespace="ns",phase="Pending"} 3');
    await h.client.delete(WORKFLOW_GVK, { namespace: 'ns', name: 'wf' });
    await h.reconcile('wf');
    metrics = await h.registry.metrics();
    expect(metrics).toContain('steward_workflow_tasks{namespace="ns",phase="Running"} 0');
    expect(metrics).toContain('steward_workflow_tasks{namespace="ns",phase="Pending"} 0');
  });

  test('one status write per reconcile, conditional on the resourceVersion read; none when nothing changed', async () => {
    const h = new Harness();
    const writes: string[] = [];
    h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') writes.push(a.name!);
    });
    await h.create('wf', { tasks: tasks('a', 'b', 'c', 'd', 'e') });
    await h.reconcile('wf');
    expect(writes).toHaveLength(1);
    expect(await h.sessionNames()).toHaveLength(5);
    await h.reconcile('wf');
    expect(writes).toHaveLength(1);
    for (const t of ['a', 'b', 'c']) await h.succeed('wf', t);
    await h.reconcile('wf');
    expect(writes).toHaveLength(2);
  });

  test('task Sessions are created asking for a metadata-only answer; the next reconcile reads them from the cache', async () => {
    const h = new Harness();
    const asked: Array<boolean | undefined> = [];
    const create = h.client.create.bind(h.client);
    h.client.create = (obj, opts) => {
      if (obj.kind === 'Session') asked.push(opts?.metadataOnlyResponse);
      return create(obj, opts);
    };
    await h.create('wf', { tasks: tasks('a', ['b', ['a']]) });
    await h.reconcile('wf');
    expect(asked).toEqual([true]);
    expect((await h.workflow('wf')).status?.tasks?.a).toMatchObject({ phase: 'Running', session: 'wf-a' });
    await h.succeed('wf', 'a');
    await h.reconcile('wf');
    expect(asked).toEqual([true, true]);
    expect((await h.workflow('wf')).status?.tasks?.b).toMatchObject({ phase: 'Running', session: 'wf-b' });
  });
});

describe('Workflow reconciler: failures', () => {
  test('Stop: no new task after a failure, running ones finish, unstarted ones Skipped, then Failed', async () => {
    const h = new Harness();
    await h.create('wf', { parallelism: 2, tasks: tasks('a', 'b', ['c', ['a']], 'd') });
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    await h.fail('wf', 'a', 3);
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Running', reason: 'Stopping', progress: '3/4' });
    expect(wf.status?.tasks).toMatchObject({
      a: { phase: 'Failed', reason: 'ExitCode', exitCode: 3 },
      b: { phase: 'Running' },
      c: { phase: 'Skipped', reason: 'UpstreamFailed', message: 'Not started: upstream task a failed' },
      d: { phase: 'Skipped', reason: 'Stopped', message: 'Not started: task a failed and onFailure is Stop' },
    });
    await h.succeed('wf', 'b');
    await h.reconcile('wf');
    wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'TaskFailed', progress: '4/4' });
    expect(wf.status?.message).toBe('Task a failed (ExitCode): Attempt 1 failed: exit code 3; 2 skipped');
    expect(h.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual([
      'TaskFailed',
      'TaskFailed',
    ]);
  });

  test('Continue: only the failed branch is Skipped; the independent branch runs to the end', async () => {
    const h = new Harness();
    await h.create('wf', {
      onFailure: 'Continue',
      tasks: tasks('a', ['b', ['a']], ['c', ['b']], 'x', ['y', ['x']]),
    });
    await h.reconcile('wf');
    await h.fail('wf', 'a');
    await h.succeed('wf', 'x');
    await h.reconcile('wf');
    expect(await h.phases('wf')).toEqual({
      a: 'Failed',
      b: 'Skipped',
      c: 'Skipped',
      x: 'Succeeded',
      y: 'Running',
    });
    await h.succeed('wf', 'y');
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Failed', progress: '5/5' });
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-x', 'wf-y']);
  });

  test('a TimedOut Session is a failed task with the Session’s reason; retries show as attempts', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a') });
    await h.reconcile('wf');
    await h.setSession('wf', 'a', { phase: 'Starting', attempt: 2, reason: 'JobCreated', message: 'x' });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status?.tasks?.a).toMatchObject({ phase: 'Running', attempt: 2 });
    await h.setSession('wf', 'a', {
      phase: 'TimedOut',
      attempt: 2,
      reason: 'RunTimeout',
      message: 'too long',
    });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status?.tasks?.a).toMatchObject({
      phase: 'Failed',
      attempt: 2,
      reason: 'RunTimeout',
      message: 'too long',
    });
  });

  test('a Session deleted before it finished fails its task', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a', ['b', ['a']]) });
    await h.reconcile('wf');
    await h.client.delete(SESSION_GVK, { namespace: 'ns', name: 'wf-a' });
    // A fresh process: no memory of having created it.
    await h.reconcile('wf', h.newReconciler());
    expect((await h.workflow('wf')).status).toMatchObject({
      phase: 'Failed',
      tasks: {
        a: {
          phase: 'Failed',
          reason: 'SessionDeleted',
          message: 'Session wf-a was deleted before it finished',
        },
        b: { phase: 'Skipped' },
      },
    });
  });

  test('a terminal task stays terminal when its Session is gone later', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a', ['b', ['a']]) });
    await h.reconcile('wf');
    await h.succeed('wf', 'a', 'A');
    await h.reconcile('wf');
    await h.client.delete(SESSION_GVK, { namespace: 'ns', name: 'wf-a' });
    await h.reconcile('wf', h.newReconciler());
    expect(await h.phases('wf')).toEqual({ a: 'Succeeded', b: 'Running' });
    expect(await h.sessionNames()).toEqual(['wf-b']);
  });

  test('results too large for STEWARD_UPSTREAM fail the task instead of a pod that cannot start', async () => {
    const h = new Harness();
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    await h.create('wf', { onFailure: 'Continue', tasks: tasks(...names, ['sink', names], 'other') });
    await h.reconcile('wf');
    for (const n of names) await h.succeed('wf', n, 'x'.repeat(4000));
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status?.tasks?.sink).toMatchObject({ phase: 'Failed', reason: 'UpstreamTooLarge' });
    expect(wf.status?.tasks?.sink?.message).toContain(`at most ${MAX_UPSTREAM_BYTES}`);
    expect(await h.sessionNames()).not.toContain('wf-sink');
  });

  test('a Session of the task’s name that another owner holds fails the task', async () => {
    const h = new Harness();
    await h.client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: 'ns', name: 'wf-a' },
      spec: RUN,
    });
    await h.create('wf', { tasks: tasks('a') });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status).toMatchObject({
      phase: 'Failed',
      tasks: { a: { phase: 'Failed', reason: 'SessionNameConflict' } },
    });
  });
});

describe('Workflow reconciler: invalid specs end Failed with reason InvalidSpec', () => {
  test.each([
    ['a cycle, spelled out', { tasks: tasks(['a', ['b']], ['b', ['a']]) }, 'dependency cycle: a → b → a'],
    ['an unknown dependency', { tasks: tasks(['a', ['x']]) }, 'task a depends on x'],
    ['no tasks', { tasks: [] }, 'spec.tasks must list at least one task'],
    ['a bad name', { tasks: tasks('A_b') }, 'spec.tasks[0].name "A_b" must be a DNS label'],
    [
      'a task without an image and no runner image',
      { tasks: [{ name: 'a', session: {} }] },
      'task a: session template.image is not set',
    ],
    ['a bad parallelism', { tasks: tasks('a'), parallelism: 0 }, 'spec.parallelism must be an integer >= 1'],
    ['a bad onFailure', { tasks: tasks('a'), onFailure: 'Maybe' }, 'spec.onFailure must be Stop or Continue'],
  ])('%s', async (_name, spec, message) => {
    const h = new Harness();
    await h.create('wf', spec);
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(wf.status?.message).toContain(message);
    expect(await h.sessions()).toEqual([]);
    expect(h.events).toEqual([{ type: 'Warning', reason: 'InvalidSpec', message: wf.status!.message }]);
  });

  test('a task with no image is fine when the operator has a runner image', async () => {
    const h = new Harness('runner:1');
    await h.create('wf', { tasks: [{ name: 'a', session: {} }] });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status?.phase).toBe('Running');
  });
});

describe('Workflow reconciler: parallelism, cancel, TTL', () => {
  test('parallelism bounds the running tasks; a finished one frees its slot', async () => {
    const h = new Harness();
    await h.create('wf', { parallelism: 2, tasks: tasks('a', 'b', 'c', 'd', 'e') });
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    await h.succeed('wf', 'b');
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
  });

  test('cancel: running Sessions are cancelled, unstarted tasks Cancelled, then the Workflow Cancelled', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    await h.reconcile('wf');
    await h.client.patch(
      WORKFLOW_GVK,
      { namespace: 'ns', name: 'wf' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    await h.reconcile('wf');
    expect((await h.session('wf', 'b')).spec?.cancel).toBe(true);
    expect((await h.session('wf', 'c')).spec?.cancel).toBe(true);
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Running', reason: 'Cancelling' });
    expect(await h.phases('wf')).toEqual({ a: 'Succeeded', b: 'Running', c: 'Running', d: 'Cancelled' });
    await h.setSession('wf', 'b', { phase: 'Cancelled', attempt: 1, reason: 'Cancelled', message: 'x' });
    await h.succeed('wf', 'c'); // finished before its cancel arrived
    await h.reconcile('wf');
    wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled', progress: '4/4' });
    expect(await h.phases('wf')).toEqual({ a: 'Succeeded', b: 'Cancelled', c: 'Succeeded', d: 'Cancelled' });
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
  });

  test('TTL: a finished Workflow is deleted ttlSecondsAfterFinished after it ended', async () => {
    const h = new Harness();
    await h.create('wf', { ttlSecondsAfterFinished: 60, tasks: tasks('a') });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 60_000 });
    h.clock.step(59_000);
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 1_000 });
    h.clock.step(1_000);
    await h.reconcile('wf');
    await expect(h.workflow('wf').catch((e: unknown) => isNotFound(e))).resolves.toBe(true);
  });
});

describe('Workflow reconciler: restarts, failover and stale caches', () => {
  test('a create whose status write was lost is adopted by the next process: one Session per task', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a', 'b') });
    const remove = h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') return new Error('connection reset');
    });
    await expect(h.reconcile('wf')).rejects.toThrow('connection reset');
    remove();
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    const second = h.newReconciler();
    await h.reconcile('wf', second);
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    expect(await h.phases('wf')).toEqual({ a: 'Running', b: 'Running' });
  });

  test('Sessions created but not yet in the cache count against parallelism', async () => {
    const h = new Harness();
    // A reader whose Session list lags: it never shows any Session.
    const r = h.laggingReconciler();
    await h.create('wf', { parallelism: 1, tasks: tasks('a', 'b', 'c') });
    await h.reconcile('wf', r);
    // Our own write is not in the cache yet either: the next reconcile reads the old Workflow.
    await h.reconcile('wf', r);
    await h.reconcile('wf', r);
    expect(await h.sessionNames()).toEqual(['wf-a']);
  });

  test('a cache that still holds the version our write replaced is waited for, not acted on', async () => {
    const h = new Harness();
    const before = await h.create('wf', { tasks: tasks('a') });
    const client = h.client;
    let stale = true;
    const reader = {
      get: async (...args: Parameters<typeof client.get>) =>
        stale && args[0].kind === 'Workflow' ? before : client.get(...args),
      list: client.list.bind(client),
    };
    const { WorkflowReconciler } = await import('../../../controllers/workflow/index.js');
    const r = new WorkflowReconciler({ client, reader: reader as never, clock: h.clock });
    await h.reconcile('wf', r);
    expect(await h.reconcile('wf', r)).toEqual({ requeueAfterMs: 50 });
    stale = false;
    await h.reconcile('wf', r);
    expect(await h.sessionNames()).toEqual(['wf-a']);
  });

  test('a status write from a stale read conflicts and asks to be requeued', async () => {
    const h = new Harness();
    const before = await h.create('wf', { tasks: tasks('a') });
    const client = h.client;
    const reader = { get: async () => before, list: client.list.bind(client) };
    const { WorkflowReconciler } = await import('../../../controllers/workflow/index.js');
    const r = new WorkflowReconciler({ client, reader: reader as never, clock: h.clock });
    await client.patch(
      WORKFLOW_GVK,
      { namespace: 'ns', name: 'wf' },
      { type: 'merge', body: { metadata: { labels: { x: 'y' } } } },
    );
    expect(await h.reconcile('wf', r)).toEqual({ requeue: true });
  });

  test('long names: Session names stay DNS labels, distinct per task', async () => {
    const h = new Harness();
    const long = 'w'.repeat(60);
    await h.create(long, { tasks: tasks('first-task', 'second-task') });
    await h.reconcile(long);
    const names = await h.sessionNames();
    expect(names).toEqual([taskSessionName(long, 'first-task'), taskSessionName(long, 'second-task')].sort());
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(63);
    expect(new Set(names).size).toBe(2);
    expect((await h.sessions())[0]!.metadata?.labels?.['steward.dev/workflow']).toBe(long);
  });
});

describe('Workflow reconciler: large Workflows batch their status writes', () => {
  // 200 tasks: a chain head `a`, then 199 tasks that wait for it.
  const big = () =>
    tasks('a', ...Array.from({ length: 199 }, (_, i): [string, string[]] => [`t${i}`, ['a']]));

  test('tasks start at once; the status is written at most every 5 ms per task; the end at once', async () => {
    const h = new Harness();
    const writes: number[] = [];
    h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') writes.push(h.clock.now());
    });
    await h.create('wf', { tasks: big() });
    await h.reconcile('wf');
    expect(writes).toHaveLength(1);
    await h.succeed('wf', 'a');
    // 200 tasks × 5 ms: one write per second at most. The 199 tasks start now all the same.
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 1_000 });
    expect(await h.sessions()).toHaveLength(200);
    expect(writes).toHaveLength(1);
    expect((await h.workflow('wf')).status?.tasks?.a?.phase).toBe('Running');
    h.clock.step(400);
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 600 });
    h.clock.step(600);
    await h.reconcile('wf');
    expect(writes).toHaveLength(2);
    expect(await h.phases('wf')).toMatchObject({ a: 'Succeeded', t0: 'Running', t198: 'Running' });
    for (let i = 0; i < 199; i++) await h.succeed('wf', `t${i}`);
    h.clock.step(10);
    await h.reconcile('wf');
    expect(writes).toHaveLength(3);
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Succeeded', progress: '200/200' });
  });

  test('on a slow API server the writes space out: at least four times as long as the last one took', async () => {
    const h = new Harness();
    // Each status write takes 2 s.
    h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') h.clock.step(2_000);
    });
    await h.create('wf', { tasks: big() });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 8_000 });
    h.clock.step(8_000);
    expect(await h.reconcile('wf')).toBeUndefined();
    expect((await h.workflow('wf')).status?.tasks?.a?.phase).toBe('Succeeded');
  });

  test('a Session seen and deleted before any write recorded it fails its task; it is not made again', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: big() });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    await h.reconcile('wf'); // creates t0…t198; the write waits
    await h.reconcile('wf'); // sees them
    const uid = (await h.session('wf', 't0')).metadata!.uid;
    await h.client.delete(SESSION_GVK, { namespace: 'ns', name: 'wf-t0' });
    h.clock.step(1_000);
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status?.tasks?.t0).toMatchObject({
      phase: 'Failed',
      reason: 'SessionDeleted',
    });
    await expect(h.session('wf', 't0').then((s) => s.metadata!.uid !== uid)).rejects.toMatchObject({
      reason: 'NotFound',
    });
  });

  test('reconciles come at most every 0.05 ms per task: events meanwhile wait for the next one', async () => {
    const h = new Harness();
    const r = h.newReconciler({ reconcileSpacingPerTaskMs: RECONCILE_SPACING_PER_TASK_MS });
    await h.create('wf', { tasks: big() });
    expect(await h.reconcile('wf', r)).toBeUndefined(); // the first at once: starts a
    await h.succeed('wf', 'a');
    // 200 tasks × 0.05 ms: 10 ms after the last one ended, and nothing done meanwhile.
    expect(await h.reconcile('wf', r)).toEqual({ requeueAfterMs: 10 });
    expect(await h.sessions()).toHaveLength(1);
    h.clock.step(6);
    expect(await h.reconcile('wf', r)).toEqual({ requeueAfterMs: 4 });
    h.clock.step(4);
    await h.reconcile('wf', r);
    expect(await h.sessions()).toHaveLength(200);
    // Cancel is never held back; nor is a small Workflow's reconcile.
    await h.client.patch(
      WORKFLOW_GVK,
      { namespace: 'ns', name: 'wf' },
      { type: 'merge', body: { spec: { cancel: true } } },
    );
    await h.reconcile('wf', r);
    const running = (await h.sessions()).filter((x) => x.status?.phase !== 'Succeeded');
    expect([running.length, running.every((x) => x.spec?.cancel === true)]).toEqual([199, true]);
    await h.create('small', { tasks: tasks('a', ['b', ['a']]) });
    await h.reconcile('small', r);
    await h.succeed('small', 'a');
    await h.reconcile('small', r);
    expect(await h.phases('small')).toMatchObject({ a: 'Succeeded', b: 'Running' });
  });
});

describe('Workflow reconciler: tasks changed after the start (no tasks-immutable policy)', () => {
  // The fake client, like a cluster without the ValidatingAdmissionPolicy, lets spec.tasks change.
  const setTasks = (h: Harness, name: string, list: unknown) =>
    h.client.patch(
      WORKFLOW_GVK,
      { namespace: 'ns', name },
      { type: 'merge', body: { spec: { tasks: list } } },
    );

  test('the first write records the task graph; other spec changes and session edits leave it be', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    const digest = (await h.workflow('wf')).status?.tasksDigest;
    expect(digest).toBe(tasksDigest(DIAMOND));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The same graph with other session templates and the dependencies in another order.
    const edited = DIAMOND.map((t) => ({
      ...t,
      dependsOn: t.dependsOn && [...t.dependsOn].reverse(),
      session: { template: { image: 'other' } },
    }));
    expect(tasksDigest(edited)).toBe(digest);
    await setTasks(h, 'wf', edited);
    await h.client.patch(
      WORKFLOW_GVK,
      { namespace: 'ns', name: 'wf' },
      { type: 'merge', body: { spec: { parallelism: 1 } } },
    );
    await h.succeed('wf', 'a');
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Running', tasksDigest: digest });
  });

  test('a task added mid-run: Failed InvalidSpec, the running task cancelled, the rest skipped, nothing new starts', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    await h.reconcile('wf'); // b and c start
    await h.succeed('wf', 'b');
    await setTasks(h, 'wf', [...DIAMOND, { name: 'e', session: RUN }]);
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(wf.status?.message).toContain('spec.tasks changed after the Workflow started');
    expect(wf.status?.message).toContain('workflows.steward.dev-tasks-immutable');
    expect(await h.phases('wf')).toEqual({ a: 'Succeeded', b: 'Succeeded', c: 'Cancelled', d: 'Skipped' });
    expect(wf.status?.tasks?.d).toMatchObject({ reason: 'InvalidSpec' });
    expect((await h.session('wf', 'c')).spec?.cancel).toBe(true);
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
    // Terminal: later reconciles change nothing.
    const rv = wf.metadata?.resourceVersion;
    await h.reconcile('wf');
    expect((await h.workflow('wf')).metadata?.resourceVersion).toBe(rv);
  });

  test('a dependency removed mid-run fails it the same way', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: DIAMOND });
    await h.reconcile('wf');
    await setTasks(
      h,
      'wf',
      DIAMOND.map((t) => (t.name === 'd' ? { ...t, dependsOn: ['b'] } : t)),
    );
    await h.reconcile('wf');
    expect(await h.phases('wf')).toEqual({ a: 'Cancelled', b: 'Skipped', c: 'Skipped', d: 'Skipped' });
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
  });

  // The first reconcile creates the root tasks' Sessions, then writes the status that records
  // the graph. An edit in between (or while the operator is down after those creates) makes that
  // write conflict: the next reconcile finds no digest, so it compares the Sessions with the spec.
  const firstWriteLost = async (h: Harness, spec: unknown, r = h.reconciler) => {
    await h.create('wf', spec);
    const remove = h.client.prependReactor((a) => {
      if (a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') return new Error('connection reset');
    });
    await expect(h.reconcile('wf', r)).rejects.toThrow('connection reset');
    remove();
    expect((await h.workflow('wf')).status).toBeUndefined();
  };

  test('a task removed before the first write, its Session running: Failed InvalidSpec, the Session cancelled', async () => {
    const h = new Harness();
    await firstWriteLost(h, { tasks: tasks('a', 'b') });
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
    await setTasks(h, 'wf', tasks('a'));
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(wf.status?.message).toContain('spec.tasks changed after the Workflow started');
    // The status says what ran: b is in it although the spec no longer names it.
    expect(await h.phases('wf')).toEqual({ a: 'Cancelled', b: 'Cancelled' });
    expect(wf.status?.tasks?.b).toMatchObject({ session: 'wf-b', reason: 'InvalidSpec' });
    expect((await h.session('wf', 'a')).spec?.cancel).toBe(true);
    expect((await h.session('wf', 'b')).spec?.cancel).toBe(true);
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
  });

  test('a started root task given a dependency before the first write fails it; an ended one keeps its outcome', async () => {
    const h = new Harness();
    await firstWriteLost(h, { tasks: tasks('a', 'b') });
    await h.succeed('wf', 'a');
    // b ran with no upstream; now it would have to wait for a and get its result.
    await setTasks(h, 'wf', tasks('a', ['b', ['a']], 'c'));
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect(await h.phases('wf')).toEqual({ a: 'Succeeded', b: 'Cancelled', c: 'Skipped' });
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
  });

  test('the same process retrying, its Sessions not in the cache yet, still finds the task removed', async () => {
    const h = new Harness();
    // A cache that lags: it shows no Session at all.
    const r = h.laggingReconciler();
    await firstWriteLost(h, { tasks: tasks('a', 'b') }, r);
    await setTasks(h, 'wf', tasks('a'));
    await h.reconcile('wf', r);
    expect(await h.phases('wf')).toEqual({ a: 'Cancelled', b: 'Cancelled' });
    expect((await h.session('wf', 'b')).spec?.cancel).toBe(true);
  });

  test('an edit before the first write that the started Sessions still agree with: the new graph runs', async () => {
    const h = new Harness();
    await firstWriteLost(h, { tasks: tasks('a', 'b') });
    await setTasks(h, 'wf', tasks('a', 'b', ['c', ['a']]));
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({
      phase: 'Running',
      tasksDigest: tasksDigest(tasks('a', 'b', ['c', ['a']])),
    });
    expect(await h.phases('wf')).toEqual({ a: 'Running', b: 'Running', c: 'Pending' });
    await h.succeed('wf', 'a');
    await h.succeed('wf', 'b');
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b', 'wf-c']);
  });

  test('an edit that makes the graph invalid before the first write still cancels the Sessions that run', async () => {
    const h = new Harness();
    await firstWriteLost(h, { tasks: tasks('a', 'b') });
    await setTasks(h, 'wf', tasks(['a', ['b']], ['b', ['a']]));
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec' });
    expect((await h.session('wf', 'a')).spec?.cancel).toBe(true);
    expect((await h.session('wf', 'b')).spec?.cancel).toBe(true);
  });
});
