// The Schedule's decision, a pure function of what was observed: which time is due, what starts,
// what is skipped, missed, cancelled or pruned, and when to look again.
import {
  CronSchedule,
  decide,
  type Decision,
  type RunView,
  type Schedule,
  type ScheduleSpec,
  type ScheduleStatus,
} from '../../../controllers/schedule/index.js';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) =>
  t === undefined ? undefined : new Date(t).toISOString().replace('.000Z', 'Z');
const CREATED = '2026-01-01T00:00:00Z';

function schedule(
  spec: Partial<ScheduleSpec> = {},
  status: ScheduleStatus = {},
  created = CREATED,
): Schedule {
  return {
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Schedule',
    metadata: { name: 'nightly', namespace: 'ns', uid: 'u1', creationTimestamp: created, generation: 1 },
    spec: { schedule: '*/5 * * * *', sessionTemplate: { spec: {} }, ...spec },
    status,
  };
}

let n = 0;
function run(state: RunView['state'], scheduled: string | undefined, extra: Partial<RunView> = {}): RunView {
  const name = `run-${++n}`;
  return {
    ref: { apiVersion: 'steward.dev/v1alpha1', kind: 'Session', name, namespace: 'ns', uid: `uid-${name}` },
    state,
    phase: state === 'active' ? 'Running' : state === 'succeeded' ? 'Succeeded' : 'Failed',
    scheduledTime: scheduled === undefined ? undefined : at(scheduled),
    manual: false,
    cancelRequested: false,
    completionTime: state === 'active' || scheduled === undefined ? undefined : at(scheduled) + 60_000,
    creationTime: scheduled === undefined ? undefined : at(scheduled),
    ...extra,
  };
}

function decideAt(now: string, s: Schedule, runs: RunView[] = []): Decision & { cron: CronSchedule } {
  const cron = CronSchedule.parse(s.spec!.schedule, s.spec!.timeZone ?? 'UTC');
  return { ...decide({ now: at(now), schedule: s, cron, runs }), cron };
}

describe('times', () => {
  test('before the first time: nothing starts; requeue for exactly the first time', () => {
    const d = decideAt('2026-01-01T00:03:10Z', schedule());
    expect(d.start).toBeUndefined();
    expect(d.missed).toBeUndefined();
    expect(d.requeueAfterMs).toBe(at('2026-01-01T00:05:00Z') - at('2026-01-01T00:03:10Z'));
    expect(d.status.nextScheduleTime).toBe('2026-01-01T00:05:00Z');
    expect(d.ready).toEqual({
      status: 'True',
      reason: 'Scheduled',
      message: 'Next run at 2026-01-01T00:05:00Z (UTC)',
    });
  });

  test('never a time before the Schedule existed', () => {
    // Created at 00:05:00 exactly (creationTimestamp has whole seconds): 00:05 is not after it.
    const d = decideAt('2026-01-01T00:05:00.300Z', schedule({}, {}, '2026-01-01T00:05:00Z'));
    expect(d.start).toBeUndefined();
    expect(d.status.nextScheduleTime).toBe('2026-01-01T00:10:00Z');
  });

  test('a due time starts; the status records it and the next time', () => {
    const d = decideAt('2026-01-01T00:05:00.020Z', schedule());
    expect(iso(d.start)).toBe('2026-01-01T00:05:00Z');
    expect(d.missed).toBeUndefined();
    expect(d.status).toMatchObject({
      lastScheduleTime: '2026-01-01T00:05:00Z',
      nextScheduleTime: '2026-01-01T00:10:00Z',
      missedRuns: 0,
    });
    expect(d.requeueAfterMs).toBe(5 * 60_000 - 20);
  });

  test('exactly once: a run that exists for the time (status not written yet) moves the watermark', () => {
    // The operator crashed after creating the run of 00:05 and before writing lastScheduleTime.
    const d = decideAt('2026-01-01T00:05:30Z', schedule(), [run('active', '2026-01-01T00:05:00Z')]);
    expect(d.start).toBeUndefined();
    expect(d.missed).toBeUndefined();
    expect(d.status.lastScheduleTime).toBe('2026-01-01T00:05:00Z');
  });

  test('exactly once: lastScheduleTime moves the watermark even after the run was pruned', () => {
    const s = schedule({}, { lastScheduleTime: '2026-01-01T00:05:00Z' });
    expect(decideAt('2026-01-01T00:09:59Z', s).start).toBeUndefined();
    expect(iso(decideAt('2026-01-01T00:10:00Z', s).start)).toBe('2026-01-01T00:10:00Z');
  });

  test('a manual run does not move the watermark (its time is not a scheduled one)', () => {
    const manual = run('succeeded', '2026-01-01T00:07:00Z', { manual: true });
    const d = decideAt('2026-01-01T00:10:00Z', schedule({}, { lastScheduleTime: '2026-01-01T00:05:00Z' }), [
      manual,
    ]);
    expect(iso(d.start)).toBe('2026-01-01T00:10:00Z');
    expect(d.status.lastScheduleTime).toBe('2026-01-01T00:10:00Z');
  });

  test('an edited expression keeps the watermark: its passed times after the last run are due', () => {
    // Hourly until 10:00; at 10:32 the expression becomes every 5 minutes.
    const s = schedule({ schedule: '*/5 * * * *' }, { lastScheduleTime: '2026-01-01T10:00:00Z' });
    const d = decideAt('2026-01-01T10:32:00Z', s);
    expect(iso(d.start)).toBe('2026-01-01T10:30:00Z');
    expect(d.missed?.count).toBe(5);
  });

  test('an expression with no future time: Ready=False NoNextTime, no requeue', () => {
    const d = decideAt('2026-01-01T00:10:00Z', schedule({ schedule: '0 0 30 2 *' }));
    expect(d.ready).toMatchObject({ status: 'False', reason: 'NoNextTime' });
    expect(d.requeueAfterMs).toBeUndefined();
    expect(d.status.nextScheduleTime).toBeUndefined();
  });
});

describe('the wall clock behind the times already handled (a step back, or a clock behind the API server)', () => {
  test('stepped back an hour after the 00:10 run: nothing runs again; next is the first time after 00:10', () => {
    const s = schedule({}, { lastScheduleTime: '2026-01-01T00:10:00Z' });
    const d = decideAt('2025-12-31T23:11:30Z', s, [run('active', '2026-01-01T00:10:00Z')]);
    expect(d.start).toBeUndefined();
    expect(d.missed).toBeUndefined();
    // Not 23:15, which will not run (it is before the last run's time): the NEXT column says when one will.
    expect(d.status.nextScheduleTime).toBe('2026-01-01T00:15:00Z');
    expect(d.requeueAfterMs).toBe(at('2026-01-01T00:15:00Z') - at('2025-12-31T23:11:30Z'));
  });

  test('the operator 30 s behind the API server at creation: next is the first time after the creation', () => {
    const s = schedule({}, {}, '2026-01-01T00:05:10Z');
    const d = decideAt('2026-01-01T00:04:40Z', s);
    expect(d.start).toBeUndefined();
    expect(d.status.nextScheduleTime).toBe('2026-01-01T00:10:00Z');
    expect(d.requeueAfterMs).toBe(at('2026-01-01T00:10:00Z') - at('2026-01-01T00:04:40Z'));
  });

  test('stepped forward an hour: like downtime, one catch-up run and the others counted', () => {
    const s = schedule({}, { lastScheduleTime: '2026-01-01T00:10:00Z' });
    const d = decideAt('2026-01-01T01:11:00Z', s);
    expect(iso(d.start)).toBe('2026-01-01T01:10:00Z');
    expect(d.missed?.count).toBe(11);
    expect(d.status.nextScheduleTime).toBe('2026-01-01T01:15:00Z');
  });
});

describe('missed runs after a long downtime', () => {
  const down = schedule({}, { lastScheduleTime: '2026-01-01T00:05:00Z', missedRuns: 2 });

  test('no deadline: exactly one catch-up run, the latest missed time; the others counted', () => {
    // Down from 00:05 to 01:02: 00:10 … 01:00 are due (11 times); 01:00 runs, 10 are missed.
    const d = decideAt('2026-01-01T01:02:00Z', down);
    expect(iso(d.start)).toBe('2026-01-01T01:00:00Z');
    expect(d.missed).toEqual({
      count: 10,
      exact: true,
      first: at('2026-01-01T00:10:00Z'),
      latest: at('2026-01-01T00:55:00Z'),
      pastDeadline: false,
    });
    expect(d.status).toMatchObject({
      missedRuns: 12,
      lastMissedTime: '2026-01-01T00:55:00Z',
      lastScheduleTime: '2026-01-01T01:00:00Z',
      nextScheduleTime: '2026-01-01T01:05:00Z',
    });
  });

  test('the catch-up run exists but the status write was lost: not run again, the others still counted', () => {
    const d = decideAt('2026-01-01T01:02:00Z', down, [run('active', '2026-01-01T01:00:00Z')]);
    expect(d.start).toBeUndefined();
    expect(d.missed).toEqual({
      count: 10,
      exact: true,
      first: at('2026-01-01T00:10:00Z'),
      latest: at('2026-01-01T00:55:00Z'),
      pastDeadline: false,
    });
    expect(d.status).toMatchObject({ missedRuns: 12, lastScheduleTime: '2026-01-01T01:00:00Z' });
  });

  test('runs for some due times exist (several lost writes): neither run again nor counted missed', () => {
    const runs = ['00:20', '00:40'].map((t) => run('succeeded', `2026-01-01T${t}:00Z`));
    const d = decideAt('2026-01-01T01:02:00Z', down, runs);
    expect(iso(d.start)).toBe('2026-01-01T01:00:00Z');
    expect(d.missed).toMatchObject({
      count: 8,
      first: at('2026-01-01T00:10:00Z'),
      latest: at('2026-01-01T00:55:00Z'),
    });
  });

  test('within startingDeadlineSeconds: the latest runs', () => {
    const d = decideAt('2026-01-01T01:02:00Z', schedule({ startingDeadlineSeconds: 150 }, down.status));
    expect(iso(d.start)).toBe('2026-01-01T01:00:00Z');
    expect(d.missed?.count).toBe(10);
  });

  test('past startingDeadlineSeconds: no run at all, every due time missed', () => {
    const d = decideAt('2026-01-01T01:02:00Z', schedule({ startingDeadlineSeconds: 60 }, down.status));
    expect(d.start).toBeUndefined();
    expect(d.missed).toMatchObject({
      count: 11,
      exact: true,
      pastDeadline: true,
      latest: at('2026-01-01T01:00:00Z'),
    });
    expect(d.status).toMatchObject({ missedRuns: 13, lastMissedTime: '2026-01-01T01:00:00Z' });
    expect(d.status.lastScheduleTime).toBe('2026-01-01T00:05:00Z');
    // Handled: a second look finds nothing due.
    const again = decideAt(
      '2026-01-01T01:02:05Z',
      schedule({ startingDeadlineSeconds: 60 }, { ...down.status, ...d.status }),
    );
    expect(again.start).toBeUndefined();
    expect(again.missed).toBeUndefined();
  });

  test('every minute, down for a year: one catch-up, the count right, bounded work', () => {
    const s = schedule({ schedule: '* * * * *' }, { lastScheduleTime: '2026-01-01T00:00:00Z' });
    const cron = CronSchedule.parse('* * * * *');
    const d = decide({ now: at('2027-01-01T00:00:30Z'), schedule: s, cron, runs: [] });
    expect(iso(d.start)).toBe('2027-01-01T00:00:00Z');
    expect(d.missed?.count).toBe(365 * 24 * 60 - 1);
    expect(cron.steps).toBeLessThan(1_100);
  });

  test('every second, suspended for a year, resumed with a deadline: no run, ~31.5 M missed, bounded work', () => {
    const s = schedule(
      { schedule: '* * * * * *', startingDeadlineSeconds: 0 },
      { lastScheduleTime: '2026-01-01T00:00:00Z' },
    );
    const cron = CronSchedule.parse('* * * * * *');
    const d = decide({ now: at('2027-01-01T00:00:00.500Z'), schedule: s, cron, runs: [] });
    expect(d.start).toBeUndefined();
    expect(d.missed?.count).toBe(365 * 24 * 3600);
    expect(cron.steps).toBeLessThan(1_100);
  });
});

describe('concurrency policies, while a run is active', () => {
  const active = () => run('active', '2026-01-01T00:05:00Z');
  const s = (policy: ScheduleSpec['concurrencyPolicy']) =>
    schedule({ concurrencyPolicy: policy }, { lastScheduleTime: '2026-01-01T00:05:00Z' });

  test('Allow (the default) starts another', () => {
    for (const d of [
      decideAt('2026-01-01T00:10:00Z', s('Allow'), [active()]),
      decideAt('2026-01-01T00:10:00Z', s(undefined), [active()]),
    ]) {
      expect(iso(d.start)).toBe('2026-01-01T00:10:00Z');
      expect(d.cancel).toEqual([]);
      expect(d.status.activeCount).toBe(1);
    }
  });

  test('Forbid skips the time (counted as skipped, and handled: not started later)', () => {
    const a = active();
    const d = decideAt('2026-01-01T00:10:00Z', s('Forbid'), [a]);
    expect(d.start).toBeUndefined();
    expect(iso(d.skipped)).toBe('2026-01-01T00:10:00Z');
    expect(d.status).toMatchObject({
      skippedRuns: 1,
      lastMissedTime: '2026-01-01T00:10:00Z',
      activeCount: 1,
    });
    expect(d.status.active).toEqual([a.ref]);
    // The run finishes at 00:11: 00:10 stays skipped; 00:15 starts.
    const later = schedule(
      { concurrencyPolicy: 'Forbid' },
      { lastScheduleTime: '2026-01-01T00:05:00Z', ...d.status },
    );
    const done = { ...a, state: 'succeeded' as const };
    expect(decideAt('2026-01-01T00:11:00Z', later, [done]).start).toBeUndefined();
    expect(iso(decideAt('2026-01-01T00:15:00Z', later, [done]).start)).toBe('2026-01-01T00:15:00Z');
  });

  test('Forbid with no active run starts it', () => {
    expect(
      iso(decideAt('2026-01-01T00:10:00Z', s('Forbid'), [run('failed', '2026-01-01T00:05:00Z')]).start),
    ).toBe('2026-01-01T00:10:00Z');
  });

  test('Forbid: a manual run that is active counts too', () => {
    const manual = run('active', '2026-01-01T00:08:00Z', { manual: true });
    expect(iso(decideAt('2026-01-01T00:10:00Z', s('Forbid'), [manual]).skipped)).toBe('2026-01-01T00:10:00Z');
  });

  test('Replace cancels the active runs (not those already cancelling) and starts the new one', () => {
    const a = active();
    const b = run('active', '2026-01-01T00:00:00Z', { cancelRequested: true });
    const d = decideAt('2026-01-01T00:10:00Z', s('Replace'), [a, b]);
    expect(iso(d.start)).toBe('2026-01-01T00:10:00Z');
    expect(d.cancel).toEqual([a]);
  });

  test('no time due: no policy acts', () => {
    for (const p of ['Allow', 'Forbid', 'Replace'] as const) {
      const d = decideAt('2026-01-01T00:07:00Z', s(p), [active()]);
      expect([p, d.start, d.skipped, d.cancel]).toEqual([p, undefined, undefined, []]);
    }
  });
});

describe('suspend', () => {
  test('suspended: nothing starts, no requeue, Ready=False Suspended', () => {
    const d = decideAt('2026-01-01T00:10:00Z', schedule({ suspend: true }));
    expect(d.start).toBeUndefined();
    expect(d.missed).toBeUndefined();
    expect(d.requeueAfterMs).toBeUndefined();
    expect(d.status.nextScheduleTime).toBeUndefined();
    expect(d.ready).toMatchObject({ status: 'False', reason: 'Suspended' });
  });

  test('suspended, with a run whose status write was lost: the times before it are counted, nothing starts', () => {
    const s = schedule({ suspend: true }, { lastScheduleTime: '2026-01-01T00:00:00Z' });
    const d = decideAt('2026-01-01T01:01:00Z', s, [run('active', '2026-01-01T00:30:00Z')]);
    expect(d.start).toBeUndefined();
    expect(d.missed).toMatchObject({
      count: 5,
      first: at('2026-01-01T00:05:00Z'),
      latest: at('2026-01-01T00:25:00Z'),
    });
    expect(d.status).toMatchObject({ lastScheduleTime: '2026-01-01T00:30:00Z', missedRuns: 5 });
  });

  test('resumed after an hour: the latest time runs, the others are missed', () => {
    const d = decideAt('2026-01-01T01:01:00Z', schedule({}, { lastScheduleTime: '2026-01-01T00:00:00Z' }));
    expect(iso(d.start)).toBe('2026-01-01T01:00:00Z');
    expect(d.missed?.count).toBe(11);
  });
});

describe('history limits', () => {
  test('prune finished runs past the limits, oldest first; active runs never', () => {
    const ok = ['00:05', '00:10', '00:15', '00:20', '00:25'].map((t) =>
      run('succeeded', `2026-01-01T${t}:00Z`),
    );
    const bad = ['00:07', '00:12', '00:17'].map((t) => run('failed', `2026-01-01T${t}:00Z`));
    const live = run('active', '2026-01-01T00:01:00Z');
    const d = decideAt('2026-01-01T00:26:00Z', schedule({}, { lastScheduleTime: '2026-01-01T00:25:00Z' }), [
      ...ok,
      ...bad,
      live,
    ]);
    expect(d.prune.map((r) => r.ref.name)).toEqual([ok[0], bad[0], ok[1], bad[1]].map((r) => r!.ref.name));
    const limits = schedule(
      { successfulRunsHistoryLimit: 0, failedRunsHistoryLimit: 5 },
      { lastScheduleTime: '2026-01-01T00:25:00Z' },
    );
    expect(decideAt('2026-01-01T00:26:00Z', limits, [...ok, ...bad, live]).prune).toEqual(ok);
  });

  test('lastSuccessfulTime: the latest completion of a succeeded run, kept after it is pruned', () => {
    const r = run('succeeded', '2026-01-01T00:05:00Z');
    const d = decideAt('2026-01-01T00:07:00Z', schedule({}, { lastScheduleTime: '2026-01-01T00:05:00Z' }), [
      r,
    ]);
    expect(d.status.lastSuccessfulTime).toBe('2026-01-01T00:06:00Z');
    const s = schedule(
      {},
      { lastScheduleTime: '2026-01-01T00:05:00Z', lastSuccessfulTime: '2026-01-01T00:06:00Z' },
    );
    expect(decideAt('2026-01-01T00:08:00Z', s, []).status.lastSuccessfulTime).toBe('2026-01-01T00:06:00Z');
  });
});
