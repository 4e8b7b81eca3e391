/**
 * systemd calendar expressions (`OnCalendar=`), as Healthchecks accepts them for a check's
 * schedule (its `oncalendar` library): `[weekdays] [[year-]month-day] [hour:minute[:second]]
 * [time zone]`, each field `*`, a value, a list `a,b`, a range `a..b` and a repetition `a/n`;
 * `~` counts days back from the month's end (`*-02~01` is February's last day); weekdays by
 * name (`Mon`, `Monday`), with `Mon..Fri` or `Mon-Fri`; the shorthands `minutely`, `hourly`,
 * `daily`, `weekly`, `monthly`, `yearly`/`annually`, `quarterly`, `semiannually`. Several
 * expressions, one per line, run at the earliest of them. A trailing IANA zone name evaluates
 * that line in its zone instead of the check's.
 *
 * Times are walked as wall-clock fields in the zone (no zone maths while searching), and each
 * match is then turned into an instant: a wall time skipped by a daylight-saving change never
 * runs, one repeated by it runs once, at its first occurrence after the given instant (both as
 * Healthchecks does). As systemd and Healthchecks, nothing runs in or after year 2200: an
 * expression that never matches (`*-02-30`) answers "never" after a bounded walk.
 */
import { isValidTimeZone } from '../auth/tenants.service.js';

export class OnCalendarError extends Error {}

const MAX_YEAR = 2200;
const DAY_NAMES = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

enum F {
  Weekday,
  Year,
  Month,
  Day,
  Hour,
  Minute,
  Second,
}
const FIELD_NAMES = ['day-of-week', 'year', 'month', 'day-of-month', 'hour', 'minute', 'second'];
/** Inclusive bounds of each field. */
const BOUNDS: Record<F, readonly [number, number]> = {
  [F.Weekday]: [0, 6],
  [F.Year]: [1970, MAX_YEAR - 1],
  [F.Month]: [1, 12],
  [F.Day]: [1, 31],
  [F.Hour]: [0, 23],
  [F.Minute]: [0, 59],
  [F.Second]: [0, 59],
};
const every = (field: F) => new Set(span(BOUNDS[field][0], BOUNDS[field][1]));

const SHORTHANDS: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
};

const bad = (field: F) => new OnCalendarError(`Bad ${FIELD_NAMES[field] ?? 'field'}`);
const span = (from: number, to: number, step = 1) => {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
};

/** One value of a field: digits only (no sign, no `_`), weekdays by name; two-digit years are 19xx/20xx. */
function value(field: F, text: string): number {
  if (field === F.Weekday) {
    const upper = text.toUpperCase();
    const index = DAY_NAMES.findIndex((name) => name === upper || name.slice(0, 3) === upper);
    if (index < 0) throw bad(field);
    return index;
  }
  if (!/^[0-9]+$/.test(text)) throw bad(field);
  let v = Number(text);
  if (field === F.Year && v < 70) v += 2000;
  if (field === F.Year && v < 100) v += 1900;
  const [min, max] = BOUNDS[field];
  if (v < min || v > max) throw bad(field);
  return v;
}

/** The values one component allows; `reverse` (after `~`) gives days counted from the month's end as negatives (-1: the last day). */
function component(field: F, text: string, reverse = false): Set<number> {
  if (field === F.Day && text.startsWith('~')) return component(field, text.slice(1), true);
  const [min, max] = BOUNDS[field];
  if (field !== F.Weekday && text === '*') return new Set(span(min, max));
  // systemd allows `*` alone only, never inside a list, range or repetition.
  if (text.includes('*')) throw bad(field);
  if (field === F.Weekday && text.endsWith(',')) return component(field, text.slice(0, -1));
  if (field === F.Weekday && text.includes('-')) return component(field, text.replaceAll('-', '..'));
  if (text.includes(',')) {
    const all = new Set<number>();
    for (const term of text.split(',')) for (const v of component(field, term, reverse)) all.add(v);
    return all;
  }
  const slash = text.indexOf('/');
  if (slash >= 0 && field !== F.Weekday) {
    const stepText = text.slice(slash + 1);
    if (!/^[0-9]+$/.test(stepText) || Number(stepText) === 0) throw bad(field);
    const step = Number(stepText);
    const base = [...component(field, text.slice(0, slash), reverse)].sort((a, b) => a - b);
    // `a/n` repeats from a to the field's end (to the month's end with `~`); `a..b/n` within the range.
    if (base.length === 1) return new Set(span(base[0]!, reverse ? 0 : max, step));
    return new Set(base.filter((_, i) => i % step === 0));
  }
  const dots = text.indexOf('..');
  if (dots >= 0) {
    const from = value(field, text.slice(0, dots));
    const to = value(field, text.slice(dots + 2));
    if (to < from) throw bad(field);
    return new Set(reverse ? span(-to, -from) : span(from, to));
  }
  const v = value(field, text);
  // systemd refuses `~` with more than 28 days back (not every month has them).
  if (reverse && v > 28) throw bad(field);
  return new Set([reverse ? -v : v]);
}

/** One parsed line. */
export interface CalendarRule {
  weekdays: Set<number>;
  years: Set<number>;
  months: Set<number>;
  days: Set<number>;
  hours: Set<number>;
  minutes: Set<number>;
  seconds: Set<number>;
  /** The zone named at the end of the line; null: the check's. */
  tz: string | null;
}

/** A trailing word that names a zone (zone names never start with a digit or `*`). */
function splitZone(line: string): [string, string | null] {
  const at = line.search(/\s\S+$/);
  if (at < 0) return [line, null];
  const word = line.slice(at + 1);
  if (/^[0-9*]/.test(word) || !isValidTimeZone(word)) return [line, null];
  return [line.slice(0, at).trim(), word];
}

function parseLine(line: string): CalendarRule {
  const [head, tz] = splitZone(line.trim());
  const text = SHORTHANDS[head.toLowerCase()] ?? head;
  const parts = text.replaceAll('~', '-~').split(/\s+/).filter(Boolean);
  if (!parts.length) throw new OnCalendarError('Wrong number of fields');
  let hours = new Set([0]);
  let minutes = new Set([0]);
  let seconds = new Set([0]);
  if (parts.at(-1)?.includes(':')) {
    const [h, m, sec = '0', ...rest] = parts.pop()!.split(':');
    if (m === undefined || rest.length) throw new OnCalendarError('Bad time');
    hours = component(F.Hour, h!);
    minutes = component(F.Minute, m);
    seconds = component(F.Second, sec);
  }
  let years = every(F.Year);
  let months = every(F.Month);
  let days = every(F.Day);
  const last = parts.at(-1);
  if (last !== undefined && last.includes('-') && /^[0-9*]/.test(last)) {
    const date = parts.pop()!.split('-');
    if (date.length === 2) date.unshift('*');
    const [y, mo, d] = date;
    if (date.length !== 3 || y === undefined || mo === undefined || d === undefined) throw new OnCalendarError('Bad date');
    years = component(F.Year, y);
    months = component(F.Month, mo);
    days = component(F.Day, d);
  }
  const weekdays = parts.length ? component(F.Weekday, parts.shift()!) : every(F.Weekday);
  if (parts.length) throw new OnCalendarError('Wrong number of fields');
  return { weekdays, years, months, days, hours, minutes, seconds, tz };
}

/** Every line of a schedule, parsed; throws OnCalendarError naming the first bad field. */
export function parseOnCalendar(expressions: string): CalendarRule[] {
  return expressions
    .trim()
    .split('\n')
    .map((line) => parseLine(line));
}

/* ---- wall-clock walking: a wall time is held as the UTC fields of a millisecond count ---- */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

function dayMatches(rule: CalendarRule, wall: Date): boolean {
  if (!rule.weekdays.has((wall.getUTCDay() + 6) % 7)) return false;
  const day = wall.getUTCDate();
  if (rule.days.has(day)) return true;
  return rule.days.has(day - daysInMonth(wall.getUTCFullYear(), wall.getUTCMonth() + 1) - 1);
}

/**
 * The first wall time at or after `from` that the rule matches, or null past year 2199. Each
 * field, from the year down, is rolled forward until it fits; rolling a field resets the ones
 * below it and starts over, so an impossible date costs about one pass per month per year.
 */
function nextWall(rule: CalendarRule, from: number): number | null {
  let t = from;
  for (;;) {
    const d = new Date(t);
    let year = d.getUTCFullYear();
    if (!rule.years.has(year)) {
      while (!rule.years.has(year) && year < MAX_YEAR) year += 1;
      if (year >= MAX_YEAR) return null;
      t = Date.UTC(year, 0, 1);
      continue;
    }
    if (year >= MAX_YEAR) return null;
    if (!rule.months.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(year, d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(rule, d)) {
      t = Date.UTC(year, d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!rule.hours.has(d.getUTCHours())) {
      t = Date.UTC(year, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!rule.minutes.has(d.getUTCMinutes())) {
      t = Date.UTC(year, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
      continue;
    }
    if (!rule.seconds.has(d.getUTCSeconds())) {
      t += SECOND;
      continue;
    }
    return t;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant (wall time − instant), in ms. */
function offsetAt(instant: number, tz: string): number {
  const parts = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(tz).formatToParts(new Date(instant))) if (part.type in parts) parts[part.type as keyof typeof parts] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(instant / SECOND) * SECOND;
}

/** The instants a wall time names in a zone, earliest first: none in a spring-forward gap, two in a repeated hour. */
function instantsOf(wall: number, tz: string): number[] {
  const offsets = new Set([offsetAt(wall - DAY, tz), offsetAt(wall, tz), offsetAt(wall + DAY, tz)]);
  return [...offsets]
    .map((offset) => wall - offset)
    .filter((instant) => offsetAt(instant, tz) === wall - instant)
    .sort((a, b) => a - b);
}

/** The rule's first run strictly after `after` (ms), or null if it never runs again. */
function nextOfRule(rule: CalendarRule, after: number, tz: string): number | null {
  const zone = rule.tz ?? tz;
  const start = Math.floor(after / SECOND) * SECOND;
  let wall: number | null = start + offsetAt(start, zone) + SECOND;
  // Bounded: each turn either returns or moves past a wall time that has no instant after `after`.
  for (let turn = 0; turn < 100_000 && wall !== null; turn++) {
    wall = nextWall(rule, wall);
    if (wall === null) return null;
    const instant = instantsOf(wall, zone).find((candidate) => candidate > after);
    if (instant !== undefined) return instant;
    wall += SECOND;
  }
  return null;
}

/** The first run of a schedule (one or more lines) strictly after `after`, in ms; null: never. */
export function nextRun(schedule: string | CalendarRule[], after: number, tz: string): number | null {
  const rules = typeof schedule === 'string' ? parseOnCalendar(schedule) : schedule;
  let best: number | null = null;
  for (const rule of rules) {
    const run = nextOfRule(rule, after, tz);
    if (run !== null && (best === null || run < best)) best = run;
  }
  return best;
}

/**
 * Why a schedule is not a valid OnCalendar expression, or null. As Healthchecks' check, an
 * expression must parse and run at least once after 2000-01-01 (so `*-02-30` is refused).
 */
export function onCalendarProblem(schedule: string): string | null {
  try {
    return nextRun(schedule, Date.UTC(2000, 0, 1), 'UTC') === null ? 'it never runs' : null;
  } catch (error) {
    if (error instanceof OnCalendarError) return error.message;
    throw error;
  }
}
