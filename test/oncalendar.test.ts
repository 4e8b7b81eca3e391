/**
 * systemd OnCalendar expressions as Healthchecks runs them (its `oncalendar` library,
 * github.com/cuu508/oncalendar). Tests that mirror one of that library's are named after it
 * (tests/test_baseiterator.py, test_tziterator.py, test_oncalendar.py); the others cover what
 * Vigie adds: runs strictly after an instant, DST in a check's zone, a bounded "never".
 */
import { describe, expect, it } from 'vitest';
import { nextRun, onCalendarProblem, parseOnCalendar, type CalendarRule } from '../src/heartbeats/oncalendar.js';
import { nextExpectedAt, scheduleKind, scheduleProblem } from '../src/heartbeats/schedule.js';
import { deadlinesAfter } from '../src/kinds/backup/schedule.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));
const range = (from: number, to: number) => new Set(Array.from({ length: to - from + 1 }, (_, i) => from + i));
const rule = (text: string): CalendarRule => parseOnCalendar(text)[0]!;

/** The next `count` runs after `from`, each found from the one before (how a check's pings walk them). */
function runs(schedule: string, from: string, count: number, tz = 'UTC'): (string | null)[] {
  const out: (string | null)[] = [];
  let after = at(from);
  for (let i = 0; i < count; i++) {
    const run = nextRun(schedule, after, tz);
    out.push(iso(run));
    if (run === null) break;
    after = run;
  }
  return out;
}

describe('parsing (oncalendar tests/test_baseiterator.py TestParse)', () => {
  it('test_it_parses_stars', () => {
    const r = rule('*-*-* *:*:*');
    expect(r.weekdays).toEqual(range(0, 6));
    expect(r.years).toEqual(range(1970, 2199));
    expect(r.days).toEqual(range(1, 31));
    expect(r.hours).toEqual(range(0, 23));
    expect(r.seconds).toEqual(range(0, 59));
  });

  it('test_it_parses_weekday, _with_trailing_comma, _interval', () => {
    for (const sample of ['Mon', 'MON', 'Monday', 'MONDAY']) expect(rule(sample).weekdays).toEqual(new Set([0]));
    expect(rule('Mon, 12:34')).toMatchObject({ weekdays: new Set([0]), hours: new Set([12]), minutes: new Set([34]), seconds: new Set([0]) });
    for (const sample of ['Mon..Tue', 'Mon,Tue', 'Mon-Tue']) expect(rule(sample).weekdays).toEqual(new Set([0, 1]));
    expect(rule('Sat,Sun').weekdays).toEqual(new Set([5, 6]));
  });

  it('test_it_parses_date, test_it_handles_omitted_year, two-digit years', () => {
    expect(rule('2023-11-30')).toMatchObject({ years: new Set([2023]), months: new Set([11]), days: new Set([30]), hours: new Set([0]) });
    expect(rule('11-30')).toMatchObject({ years: range(1970, 2199), months: new Set([11]), days: new Set([30]) });
    expect(rule('69-*-*').years).toEqual(new Set([2069]));
    expect(rule('70-*-*').years).toEqual(new Set([1970]));
  });

  it('test_it_parses_time, test_it_handles_omitted_seconds', () => {
    expect(rule('11:22:33')).toMatchObject({ hours: new Set([11]), minutes: new Set([22]), seconds: new Set([33]) });
    expect(rule('11:22')).toMatchObject({ hours: new Set([11]), minutes: new Set([22]), seconds: new Set([0]) });
  });

  it('lists, intervals and steps (test_it_parses_list, _interval, _two_intervals, _step, _interval_with_step, _start_with_step)', () => {
    expect(rule('*:1,2,3').minutes).toEqual(new Set([1, 2, 3]));
    expect(rule('*:1..3').minutes).toEqual(new Set([1, 2, 3]));
    expect(rule('*:1..3,7..9:*').minutes).toEqual(new Set([1, 2, 3, 7, 8, 9]));
    expect(rule('*:0/15').minutes).toEqual(new Set([0, 15, 30, 45]));
    expect(rule('*:0..10/2').minutes).toEqual(new Set([0, 2, 4, 6, 8, 10]));
    expect(rule('*:5/15').minutes).toEqual(new Set([5, 20, 35, 50]));
  });

  it('days from the end with ~ (test_it_parses_negative_day and its variants)', () => {
    expect(rule('*-*~1').days).toEqual(new Set([-1]));
    expect(rule('*~1').days).toEqual(new Set([-1]));
    expect(rule('*-*~1,8').days).toEqual(new Set([-1, -8]));
    expect(rule('*-*~1..3').days).toEqual(new Set([-1, -2, -3]));
    expect(rule('*-*~1..2,4..5').days).toEqual(new Set([-1, -2, -4, -5]));
    expect(rule('*-*~1..5/2').days).toEqual(new Set([-1, -3, -5]));
    expect(rule('*-*~3/2').days).toEqual(new Set([-1, -3]));
  });

  it('test_it_parses_special_expression, and every shorthand', () => {
    for (const sample of ['minutely', 'Minutely', 'MINUTELY', 'MiNuTeLY']) expect(rule(sample)).toMatchObject({ hours: range(0, 23), minutes: range(0, 59), seconds: new Set([0]) });
    expect(rule('hourly')).toMatchObject({ minutes: new Set([0]), hours: range(0, 23) });
    expect(rule('weekly')).toMatchObject({ weekdays: new Set([0]), hours: new Set([0]) });
    expect(rule('quarterly')).toMatchObject({ months: new Set([1, 4, 7, 10]), days: new Set([1]) });
    expect(rule('semiannually')).toMatchObject({ months: new Set([1, 7]), days: new Set([1]) });
    expect(rule('annually')).toEqual(rule('yearly'));
  });

  it('a trailing zone name is the line’s zone (test_it_parses_timezone_from_schedule); one alone is a bad weekday (test_it_rejects_lone_timezone)', () => {
    expect(rule('12:34 Europe/Riga').tz).toBe('Europe/Riga');
    expect(rule('daily America/New_York')).toMatchObject({ tz: 'America/New_York', hours: new Set([0]) });
    expect(rule('Mon 1-10').tz).toBeNull();
    for (const sample of ['Europe/Riga', ' Europe/Riga', 'Europe/Riga ']) expect(() => parseOnCalendar(sample)).toThrow('Bad day-of-week');
    expect(() => parseOnCalendar('12:34 Europe/Surprise')).toThrow();
  });
});

describe('validation (oncalendar tests/test_baseiterator.py TestValidation)', () => {
  it('test_it_rejects_empty_string, test_it_rejects_4_components', () => {
    expect(() => parseOnCalendar('')).toThrow('Wrong number of fields');
    expect(() => parseOnCalendar('Mon *-*-* *:*:* surprise')).toThrow('Wrong number of fields');
  });

  it('test_it_rejects_bad_values: every bad value in every field', () => {
    const patterns = ['%s *-*-* *:*:*', '%s-*-*', '*-%s-*', '*-*-%s', '*-*~%s', '%s:*:*', '*:%s:*', '*:*:%s'];
    const values = ['-1', '1000', 'ABC', '1-1', '1:1', 'Mon/1', '~1', '*/1', '*,1', '1..*'];
    for (const pattern of patterns) for (const value of values) expect(() => parseOnCalendar(pattern.replace('%s', value)), pattern.replace('%s', value)).toThrow();
  });

  it('test_it_rejects_lopsided_range, _underscores, _zero_step, day range, weekday star, reverse day above 28', () => {
    expect(() => parseOnCalendar('*-*-5..1')).toThrow('Bad day-of-month');
    expect(() => parseOnCalendar('*:1..1_0')).toThrow('Bad minute');
    expect(() => parseOnCalendar('*:*/0')).toThrow('Bad minute');
    expect(() => parseOnCalendar('1-32')).toThrow('Bad day-of-month');
    expect(() => parseOnCalendar('* 1-1')).toThrow('Bad day-of-week');
    expect(() => parseOnCalendar('1~29')).toThrow('Bad day-of-month');
    expect(() => parseOnCalendar('12:34\nsurprise')).toThrow('Bad day-of-week');
  });

  it('an expression that never runs after 2000 is refused, quickly (Healthchecks Spec.check_schedule: "not a valid expression")', () => {
    const started = performance.now();
    expect(onCalendarProblem('*-02-30')).toBe('it never runs');
    expect(onCalendarProblem('Mon *-02-31 12:00')).toBe('it never runs');
    expect(onCalendarProblem('1999-01-01')).toBe('it never runs');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(onCalendarProblem('2001-01-01')).toBeNull();
    expect(onCalendarProblem('Mon..Fri 09:00 Europe/Paris')).toBeNull();
    expect(onCalendarProblem('Mon *-*-* *:*:* surprise')).toBe('Wrong number of fields');
  });
});

describe('next runs (oncalendar tests/test_baseiterator.py TestIterator, test_tziterator.py, test_oncalendar.py)', () => {
  it('test_it_works_as_iterator: a dated expression runs its runs, then never', () => {
    expect(runs('2020-01-01 8..9:0:0', '2020-01-01T00:00:00Z', 3)).toEqual(['2020-01-01T08:00:00Z', '2020-01-01T09:00:00Z', null]);
  });

  it('test_it_handles_every_5th_second, _every_minute, _midnight', () => {
    expect(runs('*:*:0/5', '2020-01-01T00:00:00Z', 2)).toEqual(['2020-01-01T00:00:05Z', '2020-01-01T00:00:10Z']);
    expect(runs('*:*', '2020-01-01T00:00:00Z', 2)).toEqual(['2020-01-01T00:01:00Z', '2020-01-01T00:02:00Z']);
    expect(runs('00:00', '2020-01-01T01:00:00Z', 1)).toEqual(['2020-01-02T00:00:00Z']);
  });

  it('test_it_handles_every_feb_29_monday, _every_last_day_of_month, _last_sunday_of_every_month', () => {
    expect(runs('Mon 2-29', '2020-01-01T00:00:00Z', 2)).toEqual(['2044-02-29T00:00:00Z', '2072-02-29T00:00:00Z']);
    expect(runs('*~1', '2020-01-01T00:00:00Z', 3)).toEqual(['2020-01-31T00:00:00Z', '2020-02-29T00:00:00Z', '2020-03-31T00:00:00Z']);
    expect(runs('Sun *~7/1', '2020-01-01T00:00:00Z', 3)).toEqual(['2020-01-26T00:00:00Z', '2020-02-23T00:00:00Z', '2020-03-29T00:00:00Z']);
  });

  it('test_it_handles_no_occurences', () => {
    expect(nextRun('2019-01-01', at('2020-01-01T00:00:00Z'), 'UTC')).toBeNull();
    expect(nextRun('2018-01-01\n2019-01-01', at('2020-01-01T00:00:00Z'), 'UTC')).toBeNull();
  });

  it('test_it_works (test_oncalendar.py): several lines run at the earliest; test_it_handles_subiterator_stopiteration', () => {
    expect(runs('00:00\n12:34', '2020-01-01T00:00:00Z', 4)).toEqual(['2020-01-01T12:34:00Z', '2020-01-02T00:00:00Z', '2020-01-02T12:34:00Z', '2020-01-03T00:00:00Z']);
    expect(runs('2020-01-02\n12:34', '2020-01-01T00:00:00Z', 4)).toEqual(['2020-01-01T12:34:00Z', '2020-01-02T00:00:00Z', '2020-01-02T12:34:00Z', '2020-01-03T12:34:00Z']);
  });

  it('test_it_parses_timezone_from_schedule, test_it_preserves_local_timezone: the line’s zone wins over the check’s', () => {
    expect(runs('12:34 Europe/Riga', '2020-01-01T00:00:00Z', 2)).toEqual(['2020-01-01T10:34:00Z', '2020-01-02T10:34:00Z']);
    expect(runs('12:34 Europe/Riga', '2019-12-31T23:00:00Z', 1, 'Europe/Berlin')).toEqual(['2020-01-01T10:34:00Z']);
    expect(runs('12:34', '2019-12-31T23:00:00Z', 1, 'Europe/Berlin')).toEqual(['2020-01-01T11:34:00Z']);
  });

  it('shorthands run when systemd says', () => {
    const from = '2026-12-05T10:20:30Z';
    expect(runs('minutely', from, 1)).toEqual(['2026-12-05T10:21:00Z']);
    expect(runs('hourly', from, 1)).toEqual(['2026-12-05T11:00:00Z']);
    expect(runs('daily', from, 1)).toEqual(['2026-12-06T00:00:00Z']);
    expect(runs('weekly', from, 1)).toEqual(['2026-12-07T00:00:00Z']);
    expect(runs('monthly', from, 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(runs('yearly', from, 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(runs('quarterly', from, 2)).toEqual(['2027-01-01T00:00:00Z', '2027-04-01T00:00:00Z']);
    expect(runs('semiannually', from, 2)).toEqual(['2027-01-01T00:00:00Z', '2027-07-01T00:00:00Z']);
    expect(runs('Mon..Fri 09:00', from, 3)).toEqual(['2026-12-07T09:00:00Z', '2026-12-08T09:00:00Z', '2026-12-09T09:00:00Z']);
    expect(runs('Sat,Sun *-*-* 08:30:15', from, 2)).toEqual(['2026-12-06T08:30:15Z', '2026-12-12T08:30:15Z']);
  });

  it('a run is strictly after the instant, to the second (a ping at the run time expects the next)', () => {
    expect(iso(nextRun('12:00', at('2026-12-05T12:00:00Z'), 'UTC'))).toBe('2026-12-06T12:00:00Z');
    expect(iso(nextRun('12:00', at('2026-12-05T11:59:59.500Z'), 'UTC'))).toBe('2026-12-05T12:00:00Z');
  });
});

describe('daylight-saving changes in the check’s zone (oncalendar TestDstHandling, and between runs)', () => {
  it('test_it_handles_spring_dst, test_it_handles_autumn_dst (Europe/Riga)', () => {
    expect(runs('*-*-29 3:30', '2019-12-31T22:00:00Z', 3, 'Europe/Riga')).toEqual(['2020-01-29T01:30:00Z', '2020-02-29T01:30:00Z', '2020-04-29T00:30:00Z']);
    expect(runs('*-*-25 3:30', '2020-09-30T21:00:00Z', 3, 'Europe/Riga')).toEqual(['2020-10-25T00:30:00Z', '2020-11-25T01:30:00Z', '2020-12-25T01:30:00Z']);
  });

  it('Europe/Paris: 02:30 does not exist on 29 March 2026 (that day does not run), 02:30 on 25 October runs once', () => {
    expect(runs('*-*-* 02:30', '2026-03-27T12:00:00Z', 3, 'Europe/Paris')).toEqual(['2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z', '2026-03-31T00:30:00Z']);
    expect(runs('*-*-* 02:30', '2026-10-24T12:00:00Z', 3, 'Europe/Paris')).toEqual(['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z', '2026-10-27T01:30:00Z']);
  });

  it('America/New_York: a daily 09:00 stays 09:00 local across both changes', () => {
    expect(runs('09:00', '2026-03-07T15:00:00Z', 2, 'America/New_York')).toEqual(['2026-03-08T13:00:00Z', '2026-03-09T13:00:00Z']);
    expect(runs('09:00', '2026-10-31T15:00:00Z', 2, 'America/New_York')).toEqual(['2026-11-01T14:00:00Z', '2026-11-02T14:00:00Z']);
  });

  it('an instant inside the repeated hour finds the wall time still ahead of it', () => {
    // 01:10 EST, the second pass through 01:xx on 1 November 2026: 01:30 EST is 20 minutes later.
    expect(iso(nextRun('01:30', at('2026-11-01T06:10:00Z'), 'America/New_York'))).toBe('2026-11-01T06:30:00Z');
  });
});

describe('schedule.ts dispatch (Healthchecks guess_kind)', () => {
  it('one line of five fields is cron, anything else OnCalendar; null is simple', () => {
    expect(scheduleKind('0 3 * * *')).toBe('cron');
    expect(scheduleKind(' */5 * * * 1-5 ')).toBe('cron');
    expect(scheduleKind('daily')).toBe('oncalendar');
    expect(scheduleKind('Mon *-*-* 12:00 Europe/Paris')).toBe('oncalendar');
    expect(scheduleKind('0 3 * * *\n0 4 * * *')).toBe('oncalendar');
    expect(scheduleKind(null)).toBe('simple');
  });

  it('nextExpectedAt and scheduleProblem take both kinds; a schedule that never runs again never makes a check late', () => {
    const base = { timeoutSeconds: 60, graceSeconds: 60, tz: 'Europe/Paris' };
    const after = at('2026-12-05T10:00:00Z');
    expect(iso(nextExpectedAt({ ...base, schedule: '30 12 * * *' }, after))).toBe('2026-12-05T11:30:00Z');
    expect(iso(nextExpectedAt({ ...base, schedule: '12:30' }, after))).toBe('2026-12-05T11:30:00Z');
    expect(nextExpectedAt({ ...base, schedule: '2020-01-01' }, after)).toBe(Number.MAX_SAFE_INTEGER);
    expect(scheduleProblem('Mon..Fri 12:30', 'Europe/Paris')).toBeNull();
    expect(scheduleProblem('12:34\nsurprise', 'UTC')).toMatch(/Bad day-of-week/);
    expect(scheduleProblem('*-02-30', 'UTC')).toMatch(/never runs/);
  });

  it('backup jobs, which share nextExpectedAt, keep cron and take OnCalendar', () => {
    const job = { intervalSeconds: null, graceSeconds: 1800, tz: 'Europe/Paris' };
    const after = at('2026-12-05T10:00:00Z');
    expect(deadlinesAfter({ ...job, schedule: '0 2 * * *' }, after)).toEqual({ expectedAt: at('2026-12-06T01:00:00Z'), missingAt: at('2026-12-06T01:30:00Z') });
    expect(deadlinesAfter({ ...job, schedule: 'Sat,Sun 02:00' }, after)).toEqual({ expectedAt: at('2026-12-06T01:00:00Z'), missingAt: at('2026-12-06T01:30:00Z') });
    expect(deadlinesAfter({ ...job, schedule: 'Mon 02:00' }, after)).toEqual({ expectedAt: at('2026-12-07T01:00:00Z'), missingAt: at('2026-12-07T01:30:00Z') });
  });
});
