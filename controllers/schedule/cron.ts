import { Cron } from 'croner';

/**
 * Cron expressions on croner (https://croner.56k.guru), never a hand-written parser. Times are
 * milliseconds since the epoch, always whole seconds. The expression is read in `timeZone`
 * with croner's daylight-saving rules, which are Vixie cron's:
 *
 * - a fixed time (one second, minute and hour, e.g. `30 2 * * *`) that falls in a spring-forward
 *   gap runs at the first instant after the gap (03:00 in America/New_York); a fixed time in a
 *   fall-back repeat runs once, at its first occurrence;
 * - an interval pattern (`*`, a step or a list in the time fields) skips the instants that do not
 *   exist and runs through both copies of a repeated hour.
 *
 * croner iterates forward and backward consistently across those days (its `previousRuns` walks
 * back through the same times `nextRun` walks forward through), which the bounded missed-run
 * count below relies on.
 */

/** A bad expression or zone; `field` names the spec field, `message` says what is wrong. */
export class CronError extends Error {
  readonly code = 'ERR_CRON';
  constructor(
    readonly field: 'schedule' | 'timeZone',
    message: string,
  ) {
    super(message);
    this.name = 'CronError';
  }
}

/** The macros, as Kubernetes CronJobs accept them. */
export const MACROS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
] as const;

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * Why `timeZone` is not usable, or undefined. The zone must be an IANA name this process's ICU
 * data knows (as `Intl` resolves it); "Local" and UTC offsets are refused, as CronJobs refuse them.
 */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (timeZone === '') return 'timeZone must not be empty (omit it for UTC)';
  if (/^local$/i.test(timeZone)) {
    return 'timeZone "Local" is not allowed: name the zone, e.g. Europe/Berlin';
  }
  if (!ZONE_NAME.test(timeZone)) {
    return `timeZone "${timeZone}" is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)`;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return `timeZone "${timeZone}" is not a time zone the operator knows (an IANA name such as Europe/Berlin)`;
  }
  return undefined;
}

/** How many scheduled times fall in a range, and whether that is exact or an estimate. */
export interface TimeCount {
  count: number;
  exact: boolean;
}

/** Times walked at each end of a range before the middle is estimated. */
export const COUNT_WALK_LIMIT = 500;

/**
 * A parsed cron expression in a time zone (croner underneath): the times it fires, in order,
 * and how many fall in a range without walking every one.
 */
export class CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  /** Whether the expression has a seconds field (6 fields). */
  readonly hasSeconds: boolean;
  readonly #cron: Cron;
  #steps = 0;

  private constructor(expression: string, timeZone: string, cron: Cron) {
    this.expression = expression;
    this.timeZone = timeZone;
    this.#cron = cron;
    this.hasSeconds = !expression.trim().startsWith('@') && expression.trim().split(/\s+/).length === 6;
  }

  /** Parses `expression` in `timeZone`; throws `CronError` naming the field at fault. */
  static parse(expression: string, timeZone = 'UTC'): CronSchedule {
    const zoneProblem = timeZoneProblem(timeZone);
    if (zoneProblem !== undefined) throw new CronError('timeZone', zoneProblem);
    const trimmed = expression.trim();
    if (trimmed.startsWith('@') && !(MACROS as readonly string[]).includes(trimmed.toLowerCase())) {
      throw new CronError(
        'schedule',
        `schedule "${expression}": unknown macro (use one of ${MACROS.join(', ')}, or 5 or 6 fields)`,
      );
    }
    let cron: Cron;
    try {
      // 5 fields, or 6 with leading seconds; no year field. sloppyRanges accepts `5/10` for
      // `5-59/10`, as Kubernetes CronJobs do.
      cron = new Cron(trimmed, { timezone: timeZone, mode: '5-or-6-parts', sloppyRanges: true });
    } catch (err) {
      const why = (err as Error).message.replace(/^CronPattern: /, '');
      throw new CronError('schedule', `schedule "${expression}": ${why}`);
    }
    return new CronSchedule(trimmed, timeZone, cron);
  }

  /** Library calls made so far: lets tests bound the work a computation does. */
  get steps(): number {
    return this.#steps;
  }

  /** The first scheduled time strictly after `afterMs`, or undefined if there is none. */
  next(afterMs: number): number | undefined {
    this.#steps++;
    return this.#cron.nextRun(new Date(afterMs))?.getTime();
  }

  /** The latest scheduled time at or before `atMs`, or undefined if there is none. */
  latestAtOrBefore(atMs: number): number | undefined {
    // previousRuns is strictly before its reference, at whole seconds: start from the next second.
    return this.#before(Math.floor(atMs / 1000) * 1000 + 1000);
  }

  /** The next `n` scheduled times strictly after `afterMs` (fewer if the expression runs out). */
  nextTimes(afterMs: number, n: number): number[] {
    const out: number[] = [];
    let t: number | undefined = afterMs;
    while (out.length < n && (t = this.next(t)) !== undefined) out.push(t);
    return out;
  }

  /**
   * How many scheduled times fall in (afterMs, untilMs], with bounded work: at most
   * `COUNT_WALK_LIMIT` times are walked forward from the start and as many backward from the
   * end. When the two walks meet the count is exact. When they do not (a range of more than
   * 2 × COUNT_WALK_LIMIT times, e.g. a minutely schedule down for a day), the times between
   * them are estimated from the mean interval of the walked times — exact for expressions whose
   * times are evenly spaced (every N seconds, minutes or hours), close for the rest — and
   * `exact` is false.
   */
  count(afterMs: number, untilMs: number, limit = COUNT_WALK_LIMIT): TimeCount {
    if (!Number.isInteger(limit) || limit < 2)
      throw new RangeError(`limit must be an integer >= 2, got ${limit}`);
    if (untilMs <= afterMs) return { count: 0, exact: true };
    const forward: number[] = [];
    let t = this.next(afterMs);
    while (t !== undefined && t <= untilMs && forward.length < limit) {
      forward.push(t);
      t = this.next(t);
    }
    if (t === undefined || t > untilMs) return { count: forward.length, exact: true };
    const lastForward = forward.at(-1)!;
    const backward: number[] = [];
    let b = this.latestAtOrBefore(untilMs);
    while (b !== undefined && b > lastForward && backward.length < limit) {
      backward.push(b);
      b = this.#before(b);
    }
    if (b === undefined || b <= lastForward) return { count: forward.length + backward.length, exact: true };
    const earliestBackward = backward.at(-1)!;
    const walkedSpan = lastForward - forward[0]! + (backward[0]! - earliestBackward);
    const intervals = forward.length - 1 + (backward.length - 1);
    const mean = walkedSpan / Math.max(1, intervals);
    // Times strictly between the two walks: the gap spans (between + 1) mean intervals.
    const between = Math.max(0, Math.round((earliestBackward - lastForward) / mean) - 1);
    return { count: forward.length + backward.length + between, exact: false };
  }

  #before(refMs: number): number | undefined {
    this.#steps++;
    return this.#cron.previousRuns(1, new Date(refMs))[0]?.getTime();
  }
}
