// Next times of cron expressions on croner: macros, steps, ranges, seconds, a zone's DST days in
// both directions, bad input, and the bounded count of times in a range.
import { CronError, CronSchedule, timeZoneProblem } from '../../../controllers/schedule/index.js';

const at = (iso: string) => Date.parse(iso);
const isos = (times: number[]) => times.map((t) => new Date(t).toISOString().replace('.000Z', 'Z'));
const next = (expr: string, from: string, n: number, tz = 'UTC') =>
  isos(CronSchedule.parse(expr, tz).nextTimes(at(from), n));

describe('next times', () => {
  test('macros, as CronJob defines them', () => {
    const from = '2026-03-14T15:09:26Z'; // a Saturday
    expect(next('@hourly', from, 2)).toEqual(['2026-03-14T16:00:00Z', '2026-03-14T17:00:00Z']);
    expect(next('@daily', from, 2)).toEqual(['2026-03-15T00:00:00Z', '2026-03-16T00:00:00Z']);
    expect(next('@midnight', from, 1)).toEqual(['2026-03-15T00:00:00Z']);
    expect(next('@weekly', from, 2)).toEqual(['2026-03-15T00:00:00Z', '2026-03-22T00:00:00Z']); // Sundays
    expect(next('@monthly', from, 2)).toEqual(['2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z']);
    expect(next('@yearly', from, 2)).toEqual(['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']);
    expect(next('@annually', from, 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(next('@Daily', from, 1)).toEqual(['2026-03-15T00:00:00Z']);
  });

  test('step and range fields', () => {
    // Every 15 minutes 09:00-17:45 on weekdays: Friday evening rolls over to Monday.
    expect(next('*/15 9-17 * * 1-5', '2026-03-13T17:40:00Z', 3)).toEqual([
      '2026-03-13T17:45:00Z',
      '2026-03-16T09:00:00Z',
      '2026-03-16T09:15:00Z',
    ]);
    expect(next('0 0-23/6 * * *', '2026-03-14T01:00:00Z', 4)).toEqual([
      '2026-03-14T06:00:00Z',
      '2026-03-14T12:00:00Z',
      '2026-03-14T18:00:00Z',
      '2026-03-15T00:00:00Z',
    ]);
    expect(next('5/20 * * * *', '2026-03-14T01:00:00Z', 3)).toEqual([
      '2026-03-14T01:05:00Z',
      '2026-03-14T01:25:00Z',
      '2026-03-14T01:45:00Z',
    ]);
    expect(next('0 8,12,18 * * *', '2026-03-14T12:00:00Z', 2)).toEqual([
      '2026-03-14T18:00:00Z',
      '2026-03-15T08:00:00Z',
    ]);
    expect(next('0 0 1 JAN,JUL *', '2026-03-14T00:00:00Z', 2)).toEqual([
      '2026-07-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
    ]);
    // Day of month OR day of week, as in Vixie cron and CronJobs.
    expect(next('0 0 13 * 5', '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-06T00:00:00Z',
      '2026-03-13T00:00:00Z',
      '2026-03-20T00:00:00Z',
    ]);
  });

  test('an optional leading seconds field', () => {
    expect(next('*/5 * * * * *', '2026-03-14T15:09:26.500Z', 3)).toEqual([
      '2026-03-14T15:09:30Z',
      '2026-03-14T15:09:35Z',
      '2026-03-14T15:09:40Z',
    ]);
    expect(next('30 0 * * * *', '2026-03-14T15:09:26Z', 2)).toEqual([
      '2026-03-14T16:00:30Z',
      '2026-03-14T17:00:30Z',
    ]);
    expect(CronSchedule.parse('*/5 * * * * *').hasSeconds).toBe(true);
    expect(CronSchedule.parse('*/5 * * * *').hasSeconds).toBe(false);
    expect(CronSchedule.parse('@daily').hasSeconds).toBe(false);
  });

  test('next is strictly after, latestAtOrBefore includes the instant itself', () => {
    const c = CronSchedule.parse('*/5 * * * * *');
    expect(isos([c.next(at('2026-03-14T15:09:30Z'))!])).toEqual(['2026-03-14T15:09:35Z']);
    expect(isos([c.latestAtOrBefore(at('2026-03-14T15:09:30Z'))!])).toEqual(['2026-03-14T15:09:30Z']);
    expect(isos([c.latestAtOrBefore(at('2026-03-14T15:09:34.999Z'))!])).toEqual(['2026-03-14T15:09:30Z']);
  });

  test('in a zone: the expression is read in local time', () => {
    expect(next('0 9 * * *', '2026-01-10T00:00:00Z', 1, 'Europe/Berlin')).toEqual(['2026-01-10T08:00:00Z']);
    expect(next('0 9 * * *', '2026-07-10T00:00:00Z', 1, 'Europe/Berlin')).toEqual(['2026-07-10T07:00:00Z']);
    expect(next('0 9 * * *', '2026-01-10T00:00:00Z', 1, 'Asia/Kolkata')).toEqual(['2026-01-10T03:30:00Z']);
  });
});

// America/New_York in 2026: clocks go 02:00 EST → 03:00 EDT on 8 March, 02:00 EDT → 01:00 EST on
// 1 November. EST is UTC−5, EDT UTC−4.
describe('daylight saving time in America/New_York', () => {
  const NY = 'America/New_York';

  test('spring forward: a fixed time in the gap runs at 03:00 EDT that day; intervals skip the gap', () => {
    expect(next('30 2 * * *', '2026-03-07T12:00:00Z', 3, NY)).toEqual([
      '2026-03-08T07:00:00Z', // 03:00 EDT: 02:30 does not exist that day
      '2026-03-09T06:30:00Z', // 02:30 EDT
      '2026-03-10T06:30:00Z',
    ]);
    expect(next('*/30 * * * *', '2026-03-08T06:15:00Z', 3, NY)).toEqual([
      '2026-03-08T06:30:00Z', // 01:30 EST
      '2026-03-08T07:00:00Z', // 03:00 EDT
      '2026-03-08T07:30:00Z', // 03:30 EDT
    ]);
    expect(next('0 * * * *', '2026-03-08T05:30:00Z', 2, NY)).toEqual([
      '2026-03-08T06:00:00Z',
      '2026-03-08T07:00:00Z',
    ]);
  });

  test('fall back: a fixed time in the repeated hour runs once, at its first occurrence; intervals run in both', () => {
    expect(next('30 1 * * *', '2026-10-31T12:00:00Z', 3, NY)).toEqual([
      '2026-11-01T05:30:00Z', // 01:30 EDT, not again at 01:30 EST
      '2026-11-02T06:30:00Z', // 01:30 EST
      '2026-11-03T06:30:00Z',
    ]);
    expect(next('*/30 * * * *', '2026-11-01T04:45:00Z', 5, NY)).toEqual([
      '2026-11-01T05:00:00Z', // 01:00 EDT
      '2026-11-01T05:30:00Z', // 01:30 EDT
      '2026-11-01T06:00:00Z', // 01:00 EST
      '2026-11-01T06:30:00Z', // 01:30 EST
      '2026-11-01T07:00:00Z', // 02:00 EST
    ]);
  });

  test.each([
    ['*/30 * * * *'],
    ['30 2 * * *'],
    ['30 1 * * *'],
    ['15 2,3 * * *'],
    ['*/20 * 1-3 * * *'],
    ['0 * * * *'],
    ['@daily'],
  ])('%s: walking backward gives the same times as walking forward, both DST days', (expr) => {
    const c = CronSchedule.parse(expr, NY);
    for (const [a, b] of [
      ['2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'],
      ['2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'],
    ]) {
      const forward: number[] = [];
      for (let t = c.next(at(a!)); t !== undefined && t < at(b!); t = c.next(t)) forward.push(t);
      const backward: number[] = [];
      for (
        let t = c.latestAtOrBefore(at(b!) - 1000);
        t !== undefined && t > at(a!);
        t = c.latestAtOrBefore(t - 1000)
      ) {
        backward.push(t);
      }
      expect(isos(backward.reverse())).toEqual(isos(forward));
    }
  });
});

describe('bad input', () => {
  test.each([
    ['* * * *', /exactly five, six, or seven/],
    ['* * * * * * *', /requires exactly 5 or 6 parts/],
    ['61 * * * *', /Invalid value for minute: 61/],
    ['*/0 * * * *', /illegal stepping: 0/],
    ['a b c d e', /illegal characters/],
    ['@every 5m', /unknown macro/],
    ['@reboot', /unknown macro/],
    ['', /exactly five, six, or seven/],
  ])('schedule %j is refused: %s', (expr, why) => {
    let err: unknown;
    try {
      CronSchedule.parse(expr);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CronError);
    expect((err as CronError).field).toBe('schedule');
    expect((err as CronError).message).toMatch(why);
    expect((err as CronError).message).toContain(`schedule "${expr}"`);
  });

  test.each(['Mars/Olympus_Mons', 'Local', 'local', '', '+05:00', 'UTC+5', 'Europe/'])(
    'time zone %j is refused',
    (tz) => {
      expect(timeZoneProblem(tz)).toEqual(expect.stringContaining('timeZone'));
      expect(() => CronSchedule.parse('* * * * *', tz)).toThrow(
        expect.objectContaining({ field: 'timeZone' }),
      );
    },
  );

  test.each(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'US/Eastern'])(
    'time zone %j is fine',
    (tz) => {
      expect(timeZoneProblem(tz)).toBeUndefined();
    },
  );

  test('an expression that never matches has no next time (and the search is bounded)', () => {
    const c = CronSchedule.parse('0 0 30 2 *');
    expect(c.next(at('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(c.latestAtOrBefore(at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('count: times in (after, until], with bounded work', () => {
  test('exact when the range is small', () => {
    const c = CronSchedule.parse('*/5 * * * *');
    expect(c.count(at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'))).toEqual({
      count: 12,
      exact: true,
    });
    expect(c.count(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:04:59Z'))).toEqual({
      count: 0,
      exact: true,
    });
    expect(c.count(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'))).toEqual({
      count: 0,
      exact: true,
    });
  });

  test('exact when the two walks meet (up to twice the walk limit)', () => {
    const c = CronSchedule.parse('* * * * *');
    expect(c.count(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:15:00Z'), 10)).toEqual({
      count: 15,
      exact: true,
    });
    expect(c.count(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:20:00Z'), 10)).toEqual({
      count: 20,
      exact: true,
    });
  });

  test('every minute for a year: the right count from about a thousand library calls', () => {
    const c = CronSchedule.parse('* * * * *');
    const before = c.steps;
    const r = c.count(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'));
    expect(r).toEqual({ count: 365 * 24 * 60, exact: false });
    expect(c.steps - before).toBeLessThanOrEqual(2 * 500 + 2);
  });

  test('every 5 seconds for 30 days, in a zone with a DST change: right to the unit', () => {
    const c = CronSchedule.parse('*/5 * * * * *', 'Europe/Berlin');
    const r = c.count(at('2026-03-15T00:00:00Z'), at('2026-04-14T00:00:00Z'));
    expect(r.count).toBe(30 * 24 * 720);
  });

  test('an unevenly spaced expression: an estimate close to the true count', () => {
    const c = CronSchedule.parse('*/15 9-17 * * 1-5', 'America/New_York');
    const from = at('2026-01-01T00:00:00Z');
    const until = at('2026-04-01T00:00:00Z');
    let truth = 0;
    for (let t = c.next(from); t !== undefined && t <= until; t = c.next(t)) truth++;
    const r = c.count(from, until);
    expect(r.exact).toBe(false);
    expect(Math.abs(r.count - truth) / truth).toBeLessThan(0.05);
  });

  test('a bad walk limit is a RangeError naming it', () => {
    expect(() => CronSchedule.parse('* * * * *').count(0, 1, 1)).toThrow(/limit must be an integer >= 2/);
  });
});
