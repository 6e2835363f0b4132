// Fault probes of the Workflow reconciler: what production does to a Workflow (a Session refused
// by the tenant policy, creates refused by a quota, a cancel racing the creates, a TTL of 0,
// messages as long as a Session writes them) must end every Workflow in a phase with a reason,
// with a status from the first reconcile on.
import { type GVK, isNotFound, type ObjectKey, type Patch } from '../../../lib/index.js';
import { statusErrorFrom } from '../../../lib/client/errors.js';
import {
  MAX_EVENT_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  SESSION_GVK,
} from '../../../controllers/session/index.js';
import { WORKFLOW_GVK, WorkflowReconciler } from '../../../controllers/workflow/index.js';
import { Harness, RUN, tasks } from './harness.js';

const forbidden = () =>
  statusErrorFrom({
    status: 403,
    reason: 'Forbidden',
    body: {
      kind: 'Status',
      status: 'Failure',
      code: 403,
      reason: 'Forbidden',
      message:
        'sessions.steward.dev "wf-b" is forbidden: exceeded quota: q, requested: count/sessions.steward.dev=1',
    },
  });

const tooLarge = () =>
  statusErrorFrom({
    status: 500,
    reason: 'InternalError',
    body: {
      kind: 'Status',
      status: 'Failure',
      code: 500,
      reason: 'InternalError',
      message: 'etcdserver: request is too large',
    },
  });

describe('Workflow reconciler under faults', () => {
  test('a Session refused by the tenant policy fails its task with reason PolicyViolation', async () => {
    const h = new Harness();
    await h.create('wf', { onFailure: 'Continue', tasks: tasks('a', ['b', ['a']], 'c') });
    await h.reconcile('wf');
    await h.setSession('wf', 'a', {
      phase: 'Failed',
      attempt: 1,
      reason: 'PolicyViolation',
      message: 'image evil:latest is not allowed by the tenant policy',
    });
    await h.succeed('wf', 'c');
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status?.tasks?.a).toMatchObject({
      phase: 'Failed',
      reason: 'PolicyViolation',
      message: 'image evil:latest is not allowed by the tenant policy',
    });
    expect(wf.status?.tasks?.b).toMatchObject({ phase: 'Skipped', reason: 'UpstreamFailed' });
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'TaskFailed' });
    expect(wf.status?.message).toContain('Task a failed (PolicyViolation): image evil:latest');
  });

  test('a create refused (a quota): the Workflow still gets a status, the task waits and starts later', async () => {
    const h = new Harness();
    let refuse = true;
    h.client.prependReactor((a) => {
      if (refuse && a.verb === 'create' && a.gvk.kind === 'Session' && a.object?.metadata?.name === 'wf-b')
        return forbidden();
    });
    await h.create('wf', { tasks: tasks('a', 'b') });
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 1_000 });
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Running', reason: 'TasksRunning', progress: '0/2' });
    expect(wf.status?.tasks?.a).toMatchObject({ phase: 'Running', session: 'wf-a' });
    expect(wf.status?.tasks?.b).toMatchObject({ phase: 'Pending', reason: 'SessionNotCreated' });
    expect(wf.status?.tasks?.b?.message).toContain('exceeded quota');
    expect(wf.status?.message).toMatch(
      /^0 of 2 tasks finished, 1 running; task b waits \(SessionNotCreated\): .*exceeded quota/,
    );
    // Its own backoff, doubling: a requeue for a stale cache (which resets the controller's
    // rate limiter) cannot turn a lasting refusal into a loop.
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 2_000 });
    expect(await h.reconcile('wf')).toEqual({ requeueAfterMs: 4_000 });
    expect(await h.registry.metrics()).toContain(
      'steward_workflow_errors_total{namespace="ns",error_type="api_forbidden"} 3',
    );
    refuse = false;
    await h.reconcile('wf');
    wf = await h.workflow('wf');
    expect(wf.status?.tasks?.b).toEqual({ phase: 'Running', session: 'wf-b', startTime: expect.any(String) });
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
  });

  test('a refused create with a different message each time still backs off', async () => {
    const h = new Harness();
    let n = 0;
    h.client.prependReactor((a) => {
      if (a.verb === 'create' && a.gvk.kind === 'Session') return new Error(`connection reset ${++n}`);
    });
    await h.create('wf', { tasks: tasks('a') });
    const delays: number[] = [];
    for (let i = 0; i < 12; i++)
      delays.push(((await h.reconcile('wf')) as { requeueAfterMs: number }).requeueAfterMs);
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000));
  });

  test('a cancel that lands while the tasks’ Sessions are being created cancels them all', async () => {
    const h = new Harness();
    let cancelled = false;
    h.client.prependReactor((a) => {
      if (!cancelled && a.verb === 'create' && a.gvk.kind === 'Session') {
        cancelled = true;
        void h.client.patch(
          WORKFLOW_GVK,
          { namespace: 'ns', name: 'wf' },
          { type: 'merge', body: { spec: { cancel: true } } },
        );
      }
    });
    await h.create('wf', { tasks: tasks('a', 'b', ['c', ['a']]) });
    // The status write of the reconcile that created the Sessions conflicts with the cancel.
    await h.reconcile('wf');
    await h.reconcile('wf');
    const sessions = await h.sessions();
    expect(sessions.map((s) => [s.metadata!.name, s.spec?.cancel])).toEqual([
      ['wf-a', true],
      ['wf-b', true],
    ]);
    expect(await h.phases('wf')).toEqual({ a: 'Running', b: 'Running', c: 'Cancelled' });
    for (const t of ['a', 'b'])
      await h.setSession('wf', t, { phase: 'Cancelled', attempt: 1, reason: 'Cancelled', message: 'x' });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status).toMatchObject({ phase: 'Cancelled', progress: '3/3' });
  });

  test('ttlSecondsAfterFinished 0 deletes the Workflow as soon as it finished', async () => {
    const h = new Harness();
    await h.create('wf', { ttlSecondsAfterFinished: 0, tasks: tasks('a') });
    await h.reconcile('wf');
    await h.succeed('wf', 'a');
    expect(await h.reconcile('wf')).toBeUndefined();
    await expect(h.workflow('wf').catch((e: unknown) => isNotFound(e))).resolves.toBe(true);
  });

  test('a task template naming STEWARD_SCHEDULED_TIME (as a Schedule’s runs have) is accepted', async () => {
    const h = new Harness();
    const session = {
      template: {
        image: 'busybox',
        env: [{ name: 'STEWARD_SCHEDULED_TIME', value: '2026-01-01T00:00:00Z' }],
      },
    };
    await h.create('wf', { tasks: [{ name: 'a', session }] });
    await h.reconcile('wf');
    expect((await h.workflow('wf')).status?.phase).toBe('Running');
    expect((await h.session('wf', 'a')).spec).toEqual(session);
  });

  test('a task waiting to retry keeps its parallelism slot', async () => {
    const h = new Harness();
    await h.create('wf', { parallelism: 1, tasks: tasks('a', 'b') });
    await h.reconcile('wf');
    // Attempt 1 failed; the Session waits for its backoff before attempt 2.
    await h.setSession('wf', 'a', { phase: 'Pending', attempt: 1, reason: 'BackoffBeforeRetry' });
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a']);
    await h.setSession('wf', 'a', { phase: 'Running', attempt: 2, reason: 'PodRunning' });
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a']);
    expect((await h.workflow('wf')).status?.tasks?.a).toMatchObject({ phase: 'Running', attempt: 2 });
    await h.succeed('wf', 'a');
    await h.reconcile('wf');
    expect(await h.sessionNames()).toEqual(['wf-a', 'wf-b']);
  });

  test('a failed task’s longest message: the Workflow’s message and conditions stay within bounds', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a') });
    await h.reconcile('wf');
    await h.setSession('wf', 'a', {
      phase: 'Failed',
      attempt: 1,
      reason: 'ExitCode',
      message: 'm'.repeat(MAX_MESSAGE_LENGTH),
    });
    await h.reconcile('wf');
    const wf = await h.workflow('wf');
    expect(wf.status?.phase).toBe('Failed');
    expect(wf.status!.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(wf.status!.message).toMatch(
      /^Task a failed \(ExitCode\): m+ … \[\d+ more characters truncated\]$/,
    );
    for (const c of wf.status!.conditions!) expect(c.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(wf.status!.tasks!.a!.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    // Events carry at most what the events API keeps (1 KiB).
    for (const e of h.events) expect(e.message.length).toBeLessThanOrEqual(MAX_EVENT_MESSAGE_LENGTH);
    expect(h.events.map((e) => e.reason)).toEqual([
      'TaskStarted',
      'TasksRunning',
      'TaskFailed',
      'TaskFailed',
    ]);
  });

  test('a Session’s unbounded fields (from an older operator) are cut in the task entry', async () => {
    const h = new Harness();
    await h.create('wf', { tasks: tasks('a') });
    await h.reconcile('wf');
    await h.client.patchStatus(
      SESSION_GVK,
      { namespace: 'ns', name: 'wf-a' },
      {
        type: 'merge',
        body: {
          status: { phase: 'Failed', attempt: 1, reason: 'not a reason!', message: 'x'.repeat(100_000) },
        },
      },
    );
    await h.reconcile('wf');
    const a = (await h.workflow('wf')).status!.tasks!.a!;
    expect(a.reason).toBe('Failed');
    expect(a.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  });
  test('a Workflow made again at once under the same name waits for the old one’s Sessions to go', async () => {
    const h = new Harness();
    // What `stewardctl delete wf/wf` then `submit -f` leaves: the garbage collector has not
    // deleted the old Workflow's Sessions yet.
    await h.client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: {
        namespace: 'ns',
        name: 'wf-a',
        ownerReferences: [
          {
            apiVersion: 'steward.dev/v1alpha1',
            kind: 'Workflow',
            name: 'wf',
            uid: 'old-uid',
            controller: true,
          },
        ],
      },
      spec: RUN,
    });
    await h.create('wf', { tasks: tasks('a') });
    const result = await h.reconcile('wf');
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) });
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Running' });
    expect(wf.status?.tasks?.a).toMatchObject({ phase: 'Pending', reason: 'PreviousSessionExists' });
    expect(wf.status?.tasks?.a?.message).toContain('Session wf-a of an earlier Workflow named wf');
    await h.client.delete(SESSION_GVK, { namespace: 'ns', name: 'wf-a' });
    await h.reconcile('wf');
    wf = await h.workflow('wf');
    expect(wf.status?.tasks?.a).toEqual({ phase: 'Running', session: 'wf-a', startTime: expect.any(String) });
    expect((await h.session('wf', 'a')).metadata?.ownerReferences?.[0]?.uid).toBe(wf.metadata!.uid);
  });
  test('a status etcd refuses as too large (a spec near the limit): compact task entries instead, still terminal', async () => {
    const h = new Harness();
    // etcd's refusal, for any status write whose task entries carry more than phase and session.
    const client = new Proxy(h.client, {
      get(target, prop, receiver) {
        if (prop !== 'patchStatus') {
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (gvk: GVK, key: ObjectKey, patch: Patch, opts?: object) => {
          const body = (patch as { body?: unknown }).body as {
            status?: { tasks?: Record<string, Record<string, unknown> | null> };
          };
          const full = Object.values(body.status?.tasks ?? {}).some((t) =>
            Object.entries(t ?? {}).some(([k, v]) => v !== null && k !== 'phase' && k !== 'session'),
          );
          if (gvk.kind === 'Workflow' && full) throw tooLarge();
          return target.patchStatus(gvk, key, patch, opts);
        };
      },
    });
    const reconciler = new WorkflowReconciler({ client, clock: h.clock });
    await h.create('wf', { onFailure: 'Continue', tasks: tasks('a', ['b', ['a']], 'c') });
    await h.reconcile('wf', reconciler);
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({
      phase: 'Running',
      tasks: { a: { phase: 'Running', session: 'wf-a' } },
    });
    expect(wf.status?.message).toContain('task details left out');
    await h.fail('wf', 'a');
    await h.succeed('wf', 'c');
    await h.reconcile('wf', reconciler);
    wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'TaskFailed', progress: '3/3' });
    expect(wf.status?.tasks).toEqual({
      a: { phase: 'Failed', session: 'wf-a' },
      b: { phase: 'Skipped' },
      c: { phase: 'Succeeded', session: 'wf-c' },
    });
    expect(wf.status?.message).toContain('Task a failed (ExitCode)');
  });
  test('an invalid spec still ends every task: the task at fault Failed, the others Skipped, progress n/n', async () => {
    const h = new Harness();
    await h.create('wf', {
      tasks: [...tasks('a'), { name: 'b', dependsOn: ['a'], session: {} }, ...tasks('c')],
    });
    await h.reconcile('wf');
    let wf = await h.workflow('wf');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec', progress: '3/3' });
    expect(wf.status?.tasks).toEqual({
      a: {
        phase: 'Skipped',
        reason: 'InvalidSpec',
        message: 'Not started: the Workflow’s spec is invalid',
        completionTime: expect.any(String),
      },
      b: {
        phase: 'Failed',
        reason: 'InvalidSpec',
        message: wf.status!.message,
        completionTime: expect.any(String),
      },
      c: {
        phase: 'Skipped',
        reason: 'InvalidSpec',
        message: 'Not started: the Workflow’s spec is invalid',
        completionTime: expect.any(String),
      },
    });
    // A cycle is no one task's fault: all Skipped.
    await h.create('cyc', { tasks: tasks(['x', ['y']], ['y', ['x']]) });
    await h.reconcile('cyc');
    wf = await h.workflow('cyc');
    expect(wf.status).toMatchObject({ phase: 'Failed', reason: 'InvalidSpec', progress: '2/2' });
    expect(Object.values(wf.status!.tasks!).map((t) => t.phase)).toEqual(['Skipped', 'Skipped']);
  });
});
