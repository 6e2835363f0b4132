// The Schedule kind in stewardctl: `sched/NAME`, `schedule/NAME`, `schedules/NAME`. Describe adds
// the expression in words (cronstrue) and its next 5 times in the Schedule's zone (croner, as the
// operator computes them); `trigger` starts a run now, `suspend`/`resume` flip spec.suspend.
import { randomBytes } from 'node:crypto';
import cronstrue from 'cronstrue';
import {
  buildRun,
  CronError,
  CronSchedule,
  DEFAULTS,
  manualRunName,
  runKindOf,
  type Schedule,
  SCHEDULE_GVK,
} from '../../../controllers/schedule/index.js';
import { isAlreadyExists } from '../../../lib/index.js';
import { CliError, explain } from '../errors.js';
import type { CliKind } from '../kinds.js';
import { age } from '../output.js';

/** How many next times `describe` shows. */
export const NEXT_TIMES = 5;

/** `2026-12-02T02:30:00+01:00`: the instant as the zone's wall clock, with its offset. */
export function inZone(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : parts.timeZoneName!.replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** The expression in words, e.g. "Every 15 minutes, between 09:00 and 17:59, Monday through Friday". */
export function describeExpression(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch (err) {
    return `<cannot describe: ${String(err).replace(/^Error: /, '')}>`;
  }
}

/** The `describe` lines after the fields: the expression in words, then the next times. */
export function scheduleDetails(s: Schedule, now: number, count = NEXT_TIMES): string[] {
  const expression = s.spec?.schedule ?? '';
  const timeZone = s.spec?.timeZone ?? DEFAULTS.timeZone;
  const lines = [`${'Description:'.padEnd(15)}${describeExpression(expression)} (${timeZone})`];
  let cron: CronSchedule;
  try {
    cron = CronSchedule.parse(expression, timeZone);
  } catch (err) {
    if (!(err instanceof CronError)) throw err;
    return [...lines, `${'Next times:'.padEnd(15)}<none: ${err.message}>`];
  }
  const times = cron.nextTimes(now, count);
  if (times.length === 0)
    return [...lines, `${'Next times:'.padEnd(15)}<none: the expression has no future time>`];
  const suspended = s.spec?.suspend ? ' (suspended: none runs until resumed)' : '';
  return [
    ...lines,
    `Next ${times.length} times (${timeZone})${suspended}:`,
    ...times.map((t) => `  ${inZone(t, timeZone)}   ${new Date(t).toISOString().replace('.000Z', 'Z')}`),
  ];
}

export const scheduleKind: CliKind<Schedule> = {
  gvk: SCHEDULE_GVK,
  singular: 'schedule',
  plural: 'schedules',
  shortNames: ['sched'],
  crd: 'Schedule',
  columns: [
    { header: 'SCHEDULE', value: (s) => s.spec?.schedule ?? '' },
    { header: 'SUSPEND', value: (s) => String(s.spec?.suspend ?? false) },
    { header: 'ACTIVE', value: (s) => String(s.status?.activeCount ?? s.status?.active?.length ?? 0) },
    {
      header: 'LAST',
      value: (s, now) => (s.status?.lastScheduleTime ? age(s.status.lastScheduleTime, now) : '<none>'),
    },
    { header: 'NEXT', value: (s) => s.status?.nextScheduleTime ?? '<none>' },
    { header: 'AGE', value: (s, now) => age(s.metadata?.creationTimestamp, now) },
    { header: 'TIMEZONE', value: (s) => s.spec?.timeZone ?? DEFAULTS.timeZone, wide: true },
    { header: 'MISSED', value: (s) => String(s.status?.missedRuns ?? 0), wide: true },
    { header: 'RUNS', value: (s) => runKindOf(s.spec)?.gvk.kind ?? '', wide: true },
  ],
  describe: (s) => {
    const spec = s.spec;
    const st = s.status ?? {};
    return [
      ['Schedule', spec?.schedule ?? ''],
      ['Time zone', spec?.timeZone ?? DEFAULTS.timeZone],
      ['Concurrency', spec?.concurrencyPolicy ?? DEFAULTS.concurrencyPolicy],
      ['Suspend', String(spec?.suspend ?? false)],
      [
        'Deadline',
        spec?.startingDeadlineSeconds === undefined
          ? 'none'
          : `${spec.startingDeadlineSeconds}s (startingDeadlineSeconds)`,
      ],
      [
        'History',
        `${spec?.successfulRunsHistoryLimit ?? DEFAULTS.successfulRunsHistoryLimit} succeeded, ` +
          `${spec?.failedRunsHistoryLimit ?? DEFAULTS.failedRunsHistoryLimit} failed kept`,
      ],
      ['Runs', runKindOf(spec)?.gvk.kind ?? '<no template>'],
      // kind/name, as `stewardctl get` takes it: `stewardctl describe workflow/<name>` follows on.
      ['Active', (st.active ?? []).map((r) => `${r.kind.toLowerCase()}/${r.name}`).join(', ') || '<none>'],
      ['Last schedule', st.lastScheduleTime ?? '<none>'],
      ['Last success', st.lastSuccessfulTime],
      ['Next schedule', st.nextScheduleTime ?? '<none>'],
      ['Missed', st.missedRuns ?? 0],
      ['Skipped', st.skippedRuns ?? 0],
      ['Last missed', st.lastMissedTime],
    ];
  },
  describeMore: (s, now) => scheduleDetails(s, now),
  suspendPatch: (suspend) => ({ spec: { suspend } }),
  trigger: async (ctx, s, opts) => {
    const kind = runKindOf(s.spec);
    if (kind === undefined) {
      throw new CliError(`schedule ${s.metadata!.name} has no sessionTemplate or workflowTemplate to run`);
    }
    // Five base-36 characters, as kubectl's generated suffixes: 60 million names.
    const suffix = BigInt(`0x${randomBytes(4).toString('hex')}`)
      .toString(36)
      .padStart(5, '0')
      .slice(-5);
    const name = opts.name ?? manualRunName(s.metadata!.name!, suffix);
    const run = buildRun(s, kind, ctx.now(), { manual: true, name });
    try {
      await ctx.client.create(run, { signal: ctx.signal });
    } catch (err) {
      if (isAlreadyExists(err))
        throw new CliError(`${kind.gvk.kind.toLowerCase()} ${ctx.namespace}/${name} already exists`);
      explain(err, undefined, kind.gvk.kind);
    }
    return `${kind.gvk.kind.toLowerCase()}/${name}`;
  },
};
