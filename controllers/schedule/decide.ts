import { rfc3339Time } from '../../lib/index.js';
import type { CronSchedule } from './cron.js';
import { runsToPrune } from './history.js';
import type { RunView } from './runs.js';
import { DEFAULTS, type RunReference, type Schedule, type ScheduleStatus } from './types.js';

/** What `decide` looks at: the time, the Schedule, its parsed expression and its runs. */
export interface DecideInput {
  /** The wall clock, ms since the epoch. */
  now: number;
  schedule: Schedule;
  /** The parsed spec.schedule in spec.timeZone. */
  cron: CronSchedule;
  /** Every run the Schedule owns (scheduled and manual, active and finished). */
  runs: RunView[];
}

/** Scheduled times that got no run after a gap (downtime, suspension) or past the deadline. */
export interface Missed {
  count: number;
  /** False when `count` is an estimate (see CronSchedule.count). */
  exact: boolean;
  first: number;
  latest: number;
  /** The latest due time was not run because it is past startingDeadlineSeconds. */
  pastDeadline: boolean;
}

/** What `decide` says to do: start a run, cancel or prune runs, the status to write, when to look again. */
export interface Decision {
  /** Start a run for this scheduled time. */
  start?: number;
  /** Active runs to cancel before starting (concurrencyPolicy Replace). */
  cancel: RunView[];
  /** Finished runs past the history limits, oldest first: delete once the status is written. */
  prune: RunView[];
  /** A due time skipped because a run is active (concurrencyPolicy Forbid). */
  skipped?: number;
  missed?: Missed;
  /** The status fields this decision leads to (conditions are the reconciler's). */
  status: Omit<ScheduleStatus, 'conditions' | 'observedGeneration'>;
  /** Why the Schedule is or is not ready: the Ready condition. */
  ready: { status: 'True' | 'False'; reason: string; message: string };
  /** Reconcile again this much later: at the next scheduled time. */
  requeueAfterMs?: number;
}

const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);
const maxOf = (...xs: Array<number | undefined>) => {
  const vals = xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return vals.length === 0 ? undefined : Math.max(...vals);
};
const iso = (t: number | undefined) => (t === undefined ? undefined : rfc3339Time(t));

/**
 * What to do for a Schedule now, from what was observed; no I/O. The rules, CronJob's:
 *
 * - Times are handled once. The status watermark is the latest of the Schedule's creation,
 *   lastScheduleTime and lastMissedTime: times after it are due. A due time that already has
 *   its run (a crash, a failover or a conflict came between the run's create and the status
 *   write) is not run again, and settles the times before it (suspended or not): those without
 *   a run are counted, so a lost status write loses no count either. No time before the
 *   Schedule existed is ever due.
 * - Of the due times without a run, only the latest may run, and only within
 *   startingDeadlineSeconds of it (no deadline: always): at most one catch-up run. Every other
 *   one is missed — counted with bounded work, never by iterating them all.
 * - The latest due time, while a run is active: Allow starts another; Forbid skips the time;
 *   Replace cancels the active runs and starts the new one.
 * - Suspended: nothing starts and times are not handled, so on resume the latest one may still
 *   run (as a CronJob without a deadline does) and the others count as missed.
 * - Finished runs past the history limits are pruned, oldest first.
 */
export function decide({ now, schedule, cron, runs }: DecideInput): Decision {
  const spec = schedule.spec!;
  const old = schedule.status ?? {};
  const policy = spec.concurrencyPolicy ?? DEFAULTS.concurrencyPolicy;
  const active = runs.filter((r) => r.state === 'active');
  const watermark = maxOf(
    ms(schedule.metadata?.creationTimestamp),
    ms(old.lastScheduleTime),
    ms(old.lastMissedTime),
  );

  const decision: Decision = {
    cancel: [],
    prune: runsToPrune(
      runs,
      spec.successfulRunsHistoryLimit ?? DEFAULTS.successfulRunsHistoryLimit,
      spec.failedRunsHistoryLimit ?? DEFAULTS.failedRunsHistoryLimit,
    ),
    status: {},
    ready: { status: 'True', reason: 'Scheduled', message: '' },
  };

  // Every time up to this one is handled (run, skipped or missed): none of them runs again.
  let handledUntil = watermark;
  if (watermark !== undefined) {
    // Due times that have their run already (a few at most: one per status write lost to a
    // crash or a conflict). They settle every time up to the latest of them, suspended or not:
    // the times between without a run were missed, and are counted now, once.
    const ran = new Set(
      runs
        .filter((r) => !r.manual && r.scheduledTime !== undefined && r.scheduledTime > watermark)
        .map((r) => r.scheduledTime!)
        .filter((t) => cron.latestAtOrBefore(t) === t),
    );
    const settled = maxOf(...ran);
    let missed = 0;
    let exact = true;
    if (settled !== undefined) {
      const c = cron.count(watermark, settled);
      missed += c.count - ran.size;
      exact &&= c.exact;
      handledUntil = settled;
    }
    let pastDeadline = false;
    const latest = spec.suspend ? undefined : cron.latestAtOrBefore(now);
    if (latest !== undefined && latest > handledUntil!) {
      const due = cron.count(handledUntil!, now);
      exact &&= due.exact;
      handledUntil = latest;
      if (spec.startingDeadlineSeconds !== undefined && now - latest > spec.startingDeadlineSeconds * 1000) {
        missed += due.count;
        pastDeadline = true;
      } else {
        missed += due.count - 1;
        if (policy === 'Forbid' && active.length > 0) {
          decision.skipped = latest;
        } else {
          decision.start = latest;
          if (policy === 'Replace') decision.cancel = active.filter((r) => !r.cancelRequested);
        }
      }
    }
    if (missed > 0) {
      // The latest and first times without a run, stepping over those that ran.
      const handled = decision.start ?? decision.skipped;
      let last = cron.latestAtOrBefore(handled === undefined ? handledUntil! : handled - 1000);
      while (last !== undefined && ran.has(last)) last = cron.latestAtOrBefore(last - 1000);
      let first = cron.next(watermark);
      while (first !== undefined && ran.has(first)) first = cron.next(first);
      decision.missed = {
        count: missed,
        exact,
        first: first ?? handledUntil!,
        latest: last ?? handledUntil!,
        pastDeadline,
      };
    }
  }

  // The next time that will run: after now, and after every handled time. They differ when the
  // wall clock is behind what was handled (stepped back, or behind the API server's clock at
  // creation): the times in between will not run, so they are not the next one.
  const next = spec.suspend ? undefined : cron.next(Math.max(now, handledUntil ?? now));
  decision.status = statusAfter(schedule, runs, decision, next);
  if (spec.suspend) {
    decision.ready = {
      status: 'False',
      reason: 'Suspended',
      message: 'spec.suspend is true: no runs start until it is false',
    };
  } else if (next === undefined) {
    decision.ready = {
      status: 'False',
      reason: 'NoNextTime',
      message: `schedule "${spec.schedule}" has no time after ${rfc3339Time(now)}`,
    };
  } else {
    decision.ready.message = `Next run at ${rfc3339Time(next)} (${cron.timeZone})`;
    decision.requeueAfterMs = Math.max(1, next - now);
  }
  return decision;
}

/**
 * The decision once its run exists: the status lists it among the active runs (a run found by
 * AlreadyExists may have finished already; its own state counts).
 */
export function withRunStarted(input: DecideInput, decision: Decision, run: RunView): Decision {
  const runs = [...input.runs.filter((r) => r.ref.uid !== run.ref.uid), run];
  const status = statusAfter(
    input.schedule,
    runs,
    decision,
    ms(decision.status.nextScheduleTime) || undefined,
  );
  return { ...decision, status };
}

/**
 * The decision without its start, for a run that could not be created (refused by the API
 * server: a quota, an admission policy, a name taken by another object; or the API server
 * failing). The time stays due: it is neither recorded as run nor as missed, so the retry (with
 * the work queue's backoff) starts it, unless a later time or startingDeadlineSeconds overtakes
 * it first (then it is counted missed, as any time that got no run). The missed times this
 * decision counted stay counted: the status write records them before the retry.
 */
export function withStartFailed(input: DecideInput, decision: Decision): Decision {
  if (decision.start === undefined) return decision;
  const out: Decision = { ...decision, start: undefined, requeueAfterMs: undefined };
  out.status = statusAfter(
    input.schedule,
    input.runs,
    out,
    ms(decision.status.nextScheduleTime) || undefined,
  );
  return out;
}

/** The status fields after `decision`: what the runs show, merged with what the status had. */
function statusAfter(
  schedule: Schedule,
  runs: RunView[],
  decision: Pick<Decision, 'start' | 'skipped' | 'missed'>,
  next: number | undefined,
): Decision['status'] {
  const old = schedule.status ?? {};
  const refs: RunReference[] = runs
    .filter((r) => r.state === 'active')
    .map((r) => r.ref)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const scheduledRunTimes = runs.filter((r) => !r.manual).map((r) => r.scheduledTime);
  const succeededAt = runs.filter((r) => r.state === 'succeeded').map((r) => r.completionTime);
  return {
    active: refs,
    activeCount: refs.length,
    lastScheduleTime: iso(maxOf(ms(old.lastScheduleTime), ...scheduledRunTimes, decision.start)),
    lastSuccessfulTime: iso(maxOf(ms(old.lastSuccessfulTime), ...succeededAt)),
    lastMissedTime: iso(maxOf(ms(old.lastMissedTime), decision.skipped, decision.missed?.latest)),
    nextScheduleTime: iso(next),
    missedRuns: (old.missedRuns ?? 0) + (decision.missed?.count ?? 0),
    skippedRuns: (old.skippedRuns ?? 0) + (decision.skipped === undefined ? 0 : 1),
  };
}
