// The Schedule reconciler on a fake client and a fake clock: runs at their times (and only then),
// exactly once per time, concurrency policies, missed runs, suspend, history, bad specs, and
// Workflow runs handled by GVK.
import {
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidError,
  type KubernetesObject,
} from '../../../lib/index.js';
import { DEFAULT_TENANT_POLICY, SESSION_GVK } from '../../../controllers/session/index.js';
import {
  ANNOTATION_SCHEDULED_TIME,
  LABEL_SCHEDULE,
  runName,
  type Schedule,
  SCHEDULE_GVK,
  ScheduleReconciler,
  SESSION_RUNS,
  WORKFLOW_GVK,
} from '../../../controllers/schedule/index.js';
import { Harness } from './harness.js';

const at = (iso: string) => Date.parse(iso);
const name = (iso: string) => runName('nightly', at(iso));
type Run = KubernetesObject & { spec?: Record<string, unknown> & { cancel?: boolean } };

describe('Sessions at their scheduled times', () => {
  test('every 5 s: one Session per time, named, owned, labelled, with STEWARD_SCHEDULED_TIME; no polling', async () => {
    const h = new Harness();
    const s = await h.create({});
    const reconciles = await h.runUntil('2026-01-01T00:00:16Z');
    // One reconcile at creation and one per time: the requeue is for exactly the next time.
    expect(reconciles).toBe(4);
    expect(await h.runNames()).toEqual(
      ['00:05', '00:10', '00:15'].map((t) => name(`2026-01-01T00:00:${t.slice(3)}Z`)),
    );
    const [first] = (await h.runs()) as Run[];
    expect(first!.metadata).toMatchObject({
      name: 'nightly-1767225605',
      labels: { [LABEL_SCHEDULE]: 'nightly', 'app.kubernetes.io/managed-by': 'steward' },
      annotations: { [ANNOTATION_SCHEDULED_TIME]: '2026-01-01T00:00:05Z', 'steward.dev/schedule': 'nightly' },
      ownerReferences: [
        {
          apiVersion: 'steward.dev/v1alpha1',
          kind: 'Schedule',
          name: 'nightly',
          uid: s.metadata!.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(first!.spec).toEqual({
      template: {
        image: 'busybox',
        command: ['date'],
        env: [{ name: 'STEWARD_SCHEDULED_TIME', value: '2026-01-01T00:00:05Z' }],
      },
    });
    const got = await h.schedule();
    expect(got.status).toMatchObject({
      lastScheduleTime: '2026-01-01T00:00:15Z',
      nextScheduleTime: '2026-01-01T00:00:20Z',
      activeCount: 3,
      missedRuns: 0,
      observedGeneration: 1,
    });
    expect(got.status?.active?.map((r) => r.name)).toEqual(await h.runNames());
    expect(h.condition(got, 'Ready')).toMatchObject({ status: 'True', reason: 'Scheduled' });
    expect(h.condition(got, 'Failed')).toMatchObject({ status: 'False' });
    expect(h.events.map((e) => e.reason)).toEqual(['Started', 'Started', 'Started']);
    expect(await h.metric('steward_schedule_runs_total', { result: 'started', namespace: 'ns' })).toBe(3);
    expect(await h.metric('steward_schedule_start_delay_seconds')).toBe(3);
    // Every result's series exists from the first reconcile in the namespace, at 0 if need be.
    const series = (await h.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'steward_schedule_runs_total',
    )!;
    expect(series.values.map((v) => [v.labels.result, v.value]).sort()).toEqual([
      ['missed', 0],
      ['skipped', 0],
      ['started', 3],
    ]);
    expect(h.lastResult).toEqual({ requeueAfterMs: 5_000 });
  });

  test('a template with its own env and metadata keeps them; STEWARD_SCHEDULED_TIME replaces any given', async () => {
    const h = new Harness();
    await h.create({
      sessionTemplate: {
        metadata: { labels: { team: 'a' }, annotations: { note: 'x' } },
        spec: {
          template: {
            image: 'busybox',
            env: [
              { name: 'A', value: '1' },
              { name: 'STEWARD_SCHEDULED_TIME', value: 'nope' },
            ],
          },
          timeoutSeconds: 30,
        },
      },
    });
    await h.runUntil('2026-01-01T00:00:05Z');
    const [r] = (await h.runs()) as Run[];
    expect(r!.metadata?.labels).toMatchObject({ team: 'a', [LABEL_SCHEDULE]: 'nightly' });
    expect(r!.metadata?.annotations).toMatchObject({ note: 'x' });
    expect(r!.spec).toMatchObject({
      timeoutSeconds: 30,
      template: {
        env: [
          { name: 'A', value: '1' },
          { name: 'STEWARD_SCHEDULED_TIME', value: '2026-01-01T00:00:05Z' },
        ],
      },
    });
  });

  test('daily at 02:30 and 01:30 in America/New_York, across both DST days', async () => {
    const h = new Harness({ start: '2026-03-07T12:00:00Z' });
    await h.create({ schedule: '30 2 * * *', timeZone: 'America/New_York' }, 'nightly');
    await h.runUntil('2026-03-09T12:00:00Z');
    const times = (await h.runs()).map((r) => r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME]);
    expect(times).toEqual(['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']); // 03:00 EDT, then 02:30 EDT

    const f = new Harness({ start: '2026-10-31T12:00:00Z' });
    await f.create({ schedule: '30 1 * * *', timeZone: 'America/New_York' });
    await f.runUntil('2026-11-02T12:00:00Z');
    const fall = (await f.runs()).map((r) => r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME]);
    expect(fall).toEqual(['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']); // once at 01:30 EDT
  });
});

describe('exactly once per scheduled time', () => {
  test('a repeated reconcile at the same instant creates nothing more', async () => {
    const h = new Harness();
    await h.create({});
    await h.runUntil('2026-01-01T00:00:05Z');
    await h.reconcile();
    await h.reconcile();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    expect(h.events.filter((e) => e.reason === 'Started')).toHaveLength(1);
  });

  test('a second process deciding from a stale cache gets AlreadyExists and adopts the run', async () => {
    const h = new Harness();
    await h.create({});
    await h.reconcile();
    const stale = await h.schedule();
    h.clock.step(5_000);
    await h.reconcile();
    // Another replica whose cache has neither the run nor the new status.
    const reader = {
      get: async () => stale,
      list: async () => ({ metadata: {}, items: [] }),
    };
    const other = new ScheduleReconciler({ client: h.client, reader: reader as never, clock: h.clock });
    const r = await other.reconcile({ namespace: 'ns', name: 'nightly' }, h.ctx());
    expect(r).toEqual({ requeue: true }); // its status write conflicted: it decides again from a fresh read
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    expect(await h.metric('steward_schedule_runs_total', { result: 'started' })).toBe(1);
  });

  test('a crash between the create and the status write: the run found next time is not made again', async () => {
    const h = new Harness();
    await h.create({});
    await h.reconcile();
    h.clock.step(5_000);
    const remove = h.client.prependReactor((a) =>
      a.verb === 'patchStatus' ? new InternalError({ status: 500, message: 'etcd went away' }) : undefined,
    );
    await expect(h.reconcile()).rejects.toThrow('etcd went away');
    remove();
    h.clock.step(1_000);
    await h.reconcile();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    expect((await h.schedule()).status).toMatchObject({
      lastScheduleTime: '2026-01-01T00:00:05Z',
      missedRuns: 0,
    });
  });
});

describe('concurrency policies', () => {
  test('Allow: runs overlap', async () => {
    const h = new Harness();
    await h.create({ concurrencyPolicy: 'Allow' });
    await h.runUntil('2026-01-01T00:00:10Z');
    expect(await h.runNames()).toHaveLength(2);
  });

  test('Forbid: a time is skipped while a run is active (counted), the next one runs after it finished', async () => {
    const h = new Harness();
    await h.create({ concurrencyPolicy: 'Forbid' });
    await h.runUntil('2026-01-01T00:00:10Z');
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    expect(h.events.at(-1)).toEqual({
      type: 'Normal',
      reason: 'Skipped',
      message: `Skipped 2026-01-01T00:00:10Z: ${name('2026-01-01T00:00:05Z')} still active (concurrencyPolicy Forbid)`,
    });
    expect((await h.schedule()).status).toMatchObject({
      skippedRuns: 1,
      lastMissedTime: '2026-01-01T00:00:10Z',
    });
    expect(await h.metric('steward_schedule_runs_total', { result: 'skipped' })).toBe(1);
    h.clock.step(2_000);
    await h.setPhase(name('2026-01-01T00:00:05Z'), 'Succeeded');
    await h.reconcile(); // the run's phase change: nothing is due
    expect(await h.runNames()).toHaveLength(1);
    await h.runUntil('2026-01-01T00:00:15Z');
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z'), name('2026-01-01T00:00:15Z')]);
  });

  test('Replace: the active run gets spec.cancel, and the new one starts', async () => {
    const h = new Harness();
    await h.create({ concurrencyPolicy: 'Replace' });
    await h.runUntil('2026-01-01T00:00:05Z');
    await h.setPhase(name('2026-01-01T00:00:05Z'), 'Running');
    await h.runUntil('2026-01-01T00:00:10Z');
    const runs = (await h.runs()) as Run[];
    expect(runs.map((r) => [r.metadata!.name, r.spec?.cancel])).toEqual([
      [name('2026-01-01T00:00:05Z'), true],
      [name('2026-01-01T00:00:10Z'), undefined],
    ]);
    expect(h.events.map((e) => e.reason)).toEqual(['Started', 'Replaced', 'Started']);
    // Still cancelling at the next time (the Session controller has not finished it): not patched again.
    await h.runUntil('2026-01-01T00:00:15Z');
    expect(h.events.filter((e) => e.reason === 'Replaced')).toHaveLength(2); // only the 00:10 run this time
  });
});

describe('missed runs after downtime', () => {
  test('no deadline: one catch-up run (the latest time), the other times counted, an event and a metric', async () => {
    const h = new Harness();
    await h.create({});
    await h.runUntil('2026-01-01T00:00:05Z');
    h.clock.setTime(at('2026-01-01T01:00:07Z')); // the operator was down for an hour
    await h.reconcile();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z'), name('2026-01-01T01:00:05Z')]);
    const s = await h.schedule();
    expect(s.status).toMatchObject({
      missedRuns: 719,
      lastMissedTime: '2026-01-01T01:00:00Z',
      lastScheduleTime: '2026-01-01T01:00:05Z',
      nextScheduleTime: '2026-01-01T01:00:10Z',
    });
    expect(h.events.filter((e) => e.reason === 'MissedSchedule')).toEqual([
      {
        type: 'Warning',
        reason: 'MissedSchedule',
        message:
          'Missed 719 scheduled times from 2026-01-01T00:00:10Z to 2026-01-01T01:00:00Z; only the latest due time is handled',
      },
    ]);
    expect(await h.metric('steward_schedule_runs_total', { result: 'missed' })).toBe(719);
    expect(h.lastResult).toEqual({ requeueAfterMs: 3_000 });
  });

  test('the status write after a catch-up conflicts: the retry still counts the missed times, once', async () => {
    const h = new Harness();
    await h.create({});
    await h.runUntil('2026-01-01T00:00:05Z');
    h.clock.setTime(at('2026-01-01T01:00:07Z'));
    // Someone edits the Schedule between the run's create and our status write.
    const remove = h.client.prependReactor((a) =>
      a.verb === 'patchStatus'
        ? new ConflictError({ status: 409, reason: 'Conflict', message: 'changed' })
        : undefined,
    );
    expect(await h.reconcile()).toEqual({ requeue: true });
    remove();
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 3_000 });
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z'), name('2026-01-01T01:00:05Z')]);
    expect((await h.schedule()).status).toMatchObject({
      missedRuns: 719,
      lastScheduleTime: '2026-01-01T01:00:05Z',
      lastMissedTime: '2026-01-01T01:00:00Z',
    });
    expect(h.events.filter((e) => e.reason === 'MissedSchedule')).toHaveLength(1);
    expect(await h.metric('steward_schedule_runs_total', { result: 'missed' })).toBe(719);
    await h.reconcile();
    expect((await h.schedule()).status?.missedRuns).toBe(719);
  });

  test('suspended again between the catch-up run’s create and its status write: the missed times still count', async () => {
    const h = new Harness();
    await h.create({});
    await h.runUntil('2026-01-01T00:00:05Z');
    h.clock.setTime(at('2026-01-01T01:00:07Z'));
    const key = { namespace: 'ns', name: 'nightly' };
    let once = true;
    const remove = h.client.prependReactor((a) => {
      if (a.verb !== 'patchStatus' || !once) return undefined;
      once = false;
      // The user suspends it while the run is being created: our status write conflicts.
      void h.client.patch(SCHEDULE_GVK, key, { type: 'merge', body: { spec: { suspend: true } } });
      return new ConflictError({ status: 409, reason: 'Conflict', message: 'changed' });
    });
    expect(await h.reconcile()).toEqual({ requeue: true });
    remove();
    await h.reconcile(); // now suspended
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z'), name('2026-01-01T01:00:05Z')]);
    const s = await h.schedule();
    expect(s.status).toMatchObject({ missedRuns: 719, lastScheduleTime: '2026-01-01T01:00:05Z' });
    expect(h.condition(s, 'Ready')).toMatchObject({ reason: 'Suspended' });
  });

  test('past startingDeadlineSeconds: no catch-up; every time counted missed', async () => {
    const h = new Harness();
    await h.create({ startingDeadlineSeconds: 2 });
    await h.runUntil('2026-01-01T00:00:05Z');
    h.clock.setTime(at('2026-01-01T01:00:08Z'));
    await h.reconcile();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    expect((await h.schedule()).status).toMatchObject({
      missedRuns: 720,
      lastMissedTime: '2026-01-01T01:00:05Z',
    });
    expect(h.events.at(-1)?.message).toBe(
      'Missed 720 scheduled times from 2026-01-01T00:00:10Z to 2026-01-01T01:00:05Z; the latest is past startingDeadlineSeconds (2s), so none runs',
    );
    // Counted once: reconciling again changes nothing.
    await h.reconcile();
    expect(await h.metric('steward_schedule_runs_total', { result: 'missed' })).toBe(720);
  });
});

describe('suspend and resume', () => {
  test('suspended: no runs, no requeue; resumed: the latest time runs, the others are missed', async () => {
    const h = new Harness();
    await h.create({});
    await h.runUntil('2026-01-01T00:00:05Z');
    await h.client.patch(
      SCHEDULE_GVK,
      { namespace: 'ns', name: 'nightly' },
      { type: 'merge', body: { spec: { suspend: true } } },
    );
    expect(await h.reconcile()).toBeUndefined();
    let s = await h.schedule();
    expect(h.condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(s.status?.nextScheduleTime).toBeUndefined();
    h.clock.setTime(at('2026-01-01T00:01:02Z'));
    expect(await h.runNames()).toHaveLength(1);
    await h.client.patch(
      SCHEDULE_GVK,
      { namespace: 'ns', name: 'nightly' },
      { type: 'merge', body: { spec: { suspend: false } } },
    );
    await h.reconcile();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z'), name('2026-01-01T00:01:00Z')]);
    s = await h.schedule();
    expect(s.status?.missedRuns).toBe(10);
    expect(h.condition(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Scheduled' });
  });
});

describe('history limits', () => {
  test('finished runs are pruned oldest first, per outcome', async () => {
    const h = new Harness();
    await h.create({ successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 1 });
    const times = ['05', '10', '15', '20', '25', '30'].map((s) => `2026-01-01T00:00:${s}Z`);
    for (const [i, t] of times.entries()) {
      await h.runUntil(t);
      await h.setPhase(name(t), i % 3 === 1 ? 'Failed' : 'Succeeded');
    }
    await h.reconcile();
    // Succeeded: 05 15 20 30 → keep 20 30; failed: 10 25 → keep 25.
    expect(await h.runNames()).toEqual([name(times[3]!), name(times[4]!), name(times[5]!)]);
    expect(h.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message)).toEqual([
      `Deleted finished Session ${name(times[0]!)} (Succeeded; successfulRunsHistoryLimit)`,
      `Deleted finished Session ${name(times[1]!)} (Failed; failedRunsHistoryLimit)`,
      `Deleted finished Session ${name(times[2]!)} (Succeeded; successfulRunsHistoryLimit)`,
    ]);
    expect((await h.schedule()).status?.lastSuccessfulTime).toBe('2026-01-01T00:00:30Z');
  });
});

describe('specs that cannot work end in a Failed condition with a reason, never a hot loop', () => {
  test.each([
    [
      { timeZone: 'Mars/Olympus_Mons' },
      'InvalidTimeZone',
      /spec\.timeZone: timeZone "Mars\/Olympus_Mons" is not a time zone/,
    ],
    [
      { schedule: '61 * * * *' },
      'InvalidSchedule',
      /spec\.schedule: schedule "61 \* \* \* \*": Invalid value for minute: 61/,
    ],
    [
      { workflowTemplate: { spec: {} } },
      'InvalidSpec',
      /exactly one of spec.sessionTemplate and spec.workflowTemplate/,
    ],
    [
      { sessionTemplate: { spec: { template: {} } } },
      'InvalidTemplate',
      /spec\.sessionTemplate\.spec\.template\.image is not set/,
    ],
    [
      {
        sessionTemplate: undefined,
        workflowTemplate: {
          spec: {
            tasks: [
              { name: 'a', dependsOn: ['b'], session: { template: { image: 'busybox' } } },
              { name: 'b', dependsOn: ['a'], session: { template: { image: 'busybox' } } },
            ],
          },
        },
      },
      'InvalidTemplate',
      /spec\.workflowTemplate\.spec: .*a → b → a/,
    ],
    [
      { sessionTemplate: undefined, workflowTemplate: { spec: { tasks: [] } } },
      'InvalidTemplate',
      /spec\.workflowTemplate\.spec\.tasks must list at least one task/,
    ],
    [
      { concurrencyPolicy: 'Sometimes' },
      'InvalidSpec',
      /concurrencyPolicy must be one of Allow, Forbid, Replace/,
    ],
  ])('%j → %s', async (spec, reason, message) => {
    const h = new Harness();
    await h.create(spec as never);
    expect(await h.reconcile()).toBeUndefined();
    const s = await h.schedule();
    expect(h.condition(s, 'Failed')).toMatchObject({
      status: 'True',
      reason,
      message: expect.stringMatching(message),
    });
    expect(h.condition(s, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(h.events).toEqual([{ type: 'Warning', reason, message: expect.stringMatching(message) }]);
    h.clock.step(60_000);
    expect(await h.reconcile()).toBeUndefined();
    expect(h.events).toHaveLength(1);
    expect(await h.runNames()).toEqual([]);
  });

  test.each([
    [
      'a quota',
      () =>
        new ForbiddenError({
          status: 403,
          reason: 'Forbidden',
          message:
            'sessions.steward.dev "x" is forbidden: exceeded quota: runs, requested: count/sessions.steward.dev=1',
        }),
      'RunForbidden',
      /exceeded quota/,
    ],
    [
      'an admission policy (422)',
      () =>
        new InvalidError({
          status: 422,
          reason: 'Invalid',
          message: 'ValidatingAdmissionPolicy tenant-images denied request: image not allowed',
        }),
      'RunRejected',
      /image not allowed/,
    ],
    [
      'an unavailable API server',
      () =>
        new InternalError({ status: 500, reason: 'InternalError', message: 'etcdserver: request timed out' }),
      'RunCreateFailed',
      /request timed out/,
    ],
  ])(
    'a run create refused by %s: Ready=False with the reason, retried with backoff, never lost, never duplicated',
    async (_what, refusal, reason, message) => {
      const h = new Harness();
      await h.create({});
      await h.reconcile();
      h.clock.step(5_000);
      let creates = 0;
      let refuse = true;
      h.client.prependReactor((a) => {
        if (a.verb !== 'create' || a.gvk.kind !== 'Session') return undefined;
        creates++;
        return refuse ? refusal() : undefined;
      });
      // Thrown, so the work queue retries it with its rate limiter's backoff (not a fixed delay).
      await expect(h.reconcile()).rejects.toThrow(message);
      await expect(h.reconcile()).rejects.toThrow(message);
      let s = await h.schedule();
      expect(h.condition(s, 'Ready')).toMatchObject({
        status: 'False',
        reason,
        message: expect.stringMatching(message),
      });
      expect(h.condition(s, 'Ready')!.message).toContain(name('2026-01-01T00:00:05Z'));
      // The spec is fine: not Failed. The time is not lost: neither run nor missed.
      expect(h.condition(s, 'Failed')).toMatchObject({ status: 'False' });
      expect(s.status?.lastScheduleTime).toBeUndefined();
      expect(s.status?.missedRuns ?? 0).toBe(0);
      expect(h.events.filter((e) => e.reason === 'FailedCreate')).toHaveLength(2);
      expect(h.events.find((e) => e.reason === 'FailedCreate')).toMatchObject({ type: 'Warning' });
      h.clock.step(1_000);
      refuse = false;
      expect(await h.reconcile()).toEqual({ requeueAfterMs: 4_000 });
      s = await h.schedule();
      expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
      expect(s.status).toMatchObject({ lastScheduleTime: '2026-01-01T00:00:05Z', missedRuns: 0 });
      expect(h.condition(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Scheduled' });
      expect(creates).toBe(3);
      await h.reconcile();
      expect(creates).toBe(3);
    },
  );

  test('a refusal with a huge message (a webhook’s): the condition keeps the first 1,000 characters', async () => {
    const h = new Harness();
    await h.create({});
    await h.reconcile();
    h.clock.step(5_000);
    h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Session'
        ? new InvalidError({ status: 422, reason: 'Invalid', message: `denied: ${'x'.repeat(40_000)}` })
        : undefined,
    );
    await expect(h.reconcile()).rejects.toThrow(/denied: x+…; retrying with backoff$/);
    const ready = h.condition(await h.schedule(), 'Ready')!;
    expect(ready.reason).toBe('RunRejected');
    expect(ready.message.length).toBeLessThan(1_200);
    expect(ready.message).toMatch(/: denied: x+…; retrying with backoff$/);
    expect(h.events.at(-1)!.message).toBe(ready.message);
  });

  test.each([
    [
      'Session',
      { sessionTemplate: { spec: { template: { image: 'busybox', serviceAccountName: 'deployer' } } } },
    ],
    [
      'Workflow',
      {
        sessionTemplate: undefined,
        workflowTemplate: {
          spec: {
            tasks: [
              { name: 'a', session: { template: { image: 'busybox' } } },
              { name: 'b', session: { template: { image: 'busybox', serviceAccountName: 'deployer' } } },
            ],
          },
        },
      },
    ],
  ])(
    'a %s template the tenant policy refuses: Ready=False PolicyViolation naming the field, no run made, retried',
    async (kind, spec) => {
      const h = new Harness({ tenantPolicy: DEFAULT_TENANT_POLICY });
      await h.create(spec as never);
      await h.reconcile();
      h.clock.step(5_000);
      await expect(h.reconcile()).rejects.toThrow(/Tenant policy rule serviceAccounts.allowed/);
      const s = await h.schedule();
      expect(h.condition(s, 'Ready')).toMatchObject({
        status: 'False',
        reason: 'PolicyViolation',
        message: expect.stringMatching(
          kind === 'Session'
            ? /: Tenant policy rule serviceAccounts\.allowed: spec\.template\.serviceAccountName "deployer"/
            : /: task b: Tenant policy rule serviceAccounts\.allowed: spec\.template\.serviceAccountName "deployer"/,
        ),
      });
      expect(h.condition(s, 'Failed')).toMatchObject({ status: 'False' });
      expect(await h.runNames(kind === 'Session' ? SESSION_GVK : WORKFLOW_GVK)).toEqual([]);
      expect(s.status?.lastScheduleTime).toBeUndefined();
    },
  );

  test('Replace with a template the tenant policy refuses: the active run is not cancelled for a run that cannot start', async () => {
    const h = new Harness({ tenantPolicy: DEFAULT_TENANT_POLICY });
    await h.create({ concurrencyPolicy: 'Replace' });
    await h.runUntil('2026-01-01T00:00:05Z');
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:05Z')]);
    await h.client.patch(
      SCHEDULE_GVK,
      { namespace: 'ns', name: 'nightly' },
      {
        type: 'merge',
        body: {
          spec: {
            sessionTemplate: { spec: { template: { image: 'busybox', serviceAccountName: 'deployer' } } },
          },
        },
      },
    );
    h.clock.step(5_000);
    await expect(h.reconcile()).rejects.toThrow(/PolicyViolation|Tenant policy/);
    const [active] = (await h.runs()) as Run[];
    expect(active!.spec?.cancel).toBeUndefined();
    expect(h.events.map((e) => e.reason)).not.toContain('Replaced');
  });

  test('a refusal that outlasts the next time: the refused time is missed, the latest one runs', async () => {
    const h = new Harness();
    await h.create({});
    await h.reconcile();
    h.clock.step(5_000);
    const remove = h.client.prependReactor((a) =>
      a.verb === 'create' && a.gvk.kind === 'Session'
        ? new ForbiddenError({ status: 403, reason: 'Forbidden', message: 'exceeded quota' })
        : undefined,
    );
    await expect(h.reconcile()).rejects.toThrow(/exceeded quota/);
    h.clock.step(5_000);
    remove();
    await h.reconcile();
    const s = await h.schedule();
    expect(await h.runNames()).toEqual([name('2026-01-01T00:00:10Z')]);
    expect(s.status).toMatchObject({
      lastScheduleTime: '2026-01-01T00:00:10Z',
      lastMissedTime: '2026-01-01T00:00:05Z',
      missedRuns: 1,
    });
  });

  test('a run name taken by an object the Schedule does not own: RunNameConflict, no adoption, retried', async () => {
    const h = new Harness();
    await h.create({});
    await h.reconcile();
    const taken = name('2026-01-01T00:00:05Z');
    await h.client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: 'ns', name: taken, labels: { [LABEL_SCHEDULE]: 'nightly' } },
      spec: { template: { image: 'someone-else' } },
    });
    h.clock.step(5_000);
    await expect(h.reconcile()).rejects.toThrow(/not owned by this Schedule/);
    let s = await h.schedule();
    expect(h.condition(s, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RunNameConflict',
      message: expect.stringContaining(`Session ${taken} exists and is not owned by this Schedule`),
    });
    expect(s.status?.active).toBeUndefined();
    expect(s.status?.lastScheduleTime).toBeUndefined();
    const squatter = await h.client.get(SESSION_GVK, { namespace: 'ns', name: taken });
    expect(squatter.metadata?.ownerReferences).toBeUndefined();
    // Once the other object is gone, the time runs (it was not lost).
    await h.client.delete(SESSION_GVK, { namespace: 'ns', name: taken });
    h.clock.step(100);
    await h.reconcile();
    s = await h.schedule();
    expect(s.status).toMatchObject({ lastScheduleTime: '2026-01-01T00:00:05Z', activeCount: 1 });
    expect(h.condition(s, 'Ready')).toMatchObject({ status: 'True' });
  });

  test('template labels and annotations cannot override steward.dev/* keys (objects that bypassed the schema)', async () => {
    const h = new Harness();
    await h.create({
      sessionTemplate: {
        metadata: {
          labels: { team: 'a', [LABEL_SCHEDULE]: 'other', 'steward.dev/session': 'x' },
          annotations: {
            note: 'kept',
            'steward.dev/trigger': 'manual',
            [ANNOTATION_SCHEDULED_TIME]: '2020-01-01T00:00:00Z',
            'steward.dev/workflow': 'evil',
          },
        },
        spec: { template: { image: 'busybox' } },
      },
    });
    await h.runUntil('2026-01-01T00:00:05Z');
    const [run] = await h.runs();
    expect(run!.metadata!.labels).toEqual({
      team: 'a',
      [LABEL_SCHEDULE]: 'nightly',
      'app.kubernetes.io/managed-by': 'steward',
    });
    expect(run!.metadata!.annotations).toEqual({
      note: 'kept',
      'steward.dev/schedule': 'nightly',
      [ANNOTATION_SCHEDULED_TIME]: '2026-01-01T00:00:05Z',
    });
    // Counted as a scheduled run, not a manual one.
    expect((await h.schedule()).status?.lastScheduleTime).toBe('2026-01-01T00:00:05Z');
  });
});

describe('Workflow runs, handled by GVK', () => {
  const workflowTemplate = {
    metadata: { labels: { kind: 'report' } },
    spec: { tasks: [{ name: 'a', session: { template: { image: 'busybox' } } }], parallelism: 2 },
  };

  test('a Workflow per time from workflowTemplate; its status.phase drives active, history and Replace', async () => {
    const h = new Harness();
    await h.create({
      workflowTemplate,
      sessionTemplate: undefined,
      concurrencyPolicy: 'Replace',
      successfulRunsHistoryLimit: 1,
    });
    await h.runUntil('2026-01-01T00:00:05Z');
    const [wf] = (await h.runs(WORKFLOW_GVK)) as Run[];
    expect(wf).toMatchObject({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Workflow',
      metadata: {
        name: name('2026-01-01T00:00:05Z'),
        labels: { kind: 'report', [LABEL_SCHEDULE]: 'nightly' },
        annotations: { [ANNOTATION_SCHEDULED_TIME]: '2026-01-01T00:00:05Z' },
      },
      spec: {
        parallelism: 2,
        tasks: [
          {
            name: 'a',
            session: {
              template: {
                image: 'busybox',
                env: [{ name: 'STEWARD_SCHEDULED_TIME', value: '2026-01-01T00:00:05Z' }],
              },
            },
          },
        ],
      },
    });
    expect(await h.runNames(SESSION_GVK)).toEqual([]);
    await h.setPhase(name('2026-01-01T00:00:05Z'), 'Running', WORKFLOW_GVK);
    await h.runUntil('2026-01-01T00:00:10Z');
    let wfs = (await h.runs(WORKFLOW_GVK)) as Run[];
    expect(wfs.map((w) => [w.metadata!.name, w.spec?.cancel])).toEqual([
      [name('2026-01-01T00:00:05Z'), true],
      [name('2026-01-01T00:00:10Z'), undefined],
    ]);
    expect((await h.schedule()).status?.activeCount).toBe(2);
    await h.setPhase(name('2026-01-01T00:00:05Z'), 'Cancelled', WORKFLOW_GVK);
    await h.setPhase(name('2026-01-01T00:00:10Z'), 'Succeeded', WORKFLOW_GVK);
    h.clock.step(1_000);
    await h.reconcile();
    const s = await h.schedule();
    expect(s.status).toMatchObject({ activeCount: 0, lastSuccessfulTime: '2026-01-01T00:00:10Z' });
    expect(s.status?.active).toBeUndefined();
    await h.runUntil('2026-01-01T00:00:15Z');
    await h.setPhase(name('2026-01-01T00:00:15Z'), 'Succeeded', WORKFLOW_GVK);
    await h.reconcile();
    wfs = (await h.runs(WORKFLOW_GVK)) as Run[];
    // One succeeded kept (00:15), one failed (the cancelled 00:05).
    expect(wfs.map((w) => w.metadata!.name)).toEqual([
      name('2026-01-01T00:00:05Z'),
      name('2026-01-01T00:00:15Z'),
    ]);
  });

  test('Workflows not served by the API server: Ready=False RunKindNotInstalled, nothing created', async () => {
    const h = new Harness({ runKinds: [SESSION_RUNS] });
    await h.create({ workflowTemplate, sessionTemplate: undefined });
    h.clock.step(5_000);
    expect(await h.reconcile()).toBeUndefined();
    const s = (await h.schedule()) as Schedule;
    expect(h.condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'RunKindNotInstalled' });
    expect(h.condition(s, 'Failed')).toMatchObject({ status: 'False' });
    expect(await h.runNames(WORKFLOW_GVK)).toEqual([]);
  });
});
