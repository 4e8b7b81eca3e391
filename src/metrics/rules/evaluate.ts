/**
 * One rule's verdict from what its series show, as pure functions (readings.ts reads the data,
 * evaluator.ts writes the outcome).
 *
 * - Each matching series gets a level; the rule takes the worst (critical > warning > ok), and
 *   its message names that series, its value and the threshold crossed. Among series of the same
 *   level, the one furthest in the comparison's direction is named (the highest value for `>`).
 * - `for`: each breach level has its own clock, started when the rule's value first reached at
 *   least that level and stopped by any evaluation below it. A level is reported once its clock
 *   has run `for`. So a warning that escalates to critical does NOT restart the warning clock:
 *   the rule keeps reporting warning (if warning has held `for`), and reports critical once
 *   critical itself has held `for` — as two Prometheus rules with the same `for` would. Coming
 *   back down is reported at once: a recovery is not delayed.
 * - No data (no series, or no sample in the window): the previous clocks and reported state are
 *   kept, and the message says so; nothing is recorded. Staleness of a whole machine is the
 *   machine monitor's job (its heartbeat), not each rule's.
 */
import type { BreachLevel, Comparison, Level, ObservedLevel, RuleDefinition } from './definition.js';

export const LEVEL_RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

/** Which series a reading is of, for messages. */
export interface SeriesRef {
  hostname: string;
  name: string;
  labels: Record<string, string>;
}

/**
 * What one series shows for its rule: a number (numeric aggregation; bool as 1 or 0), a text
 * (string `differs`), or its latest change (string `changed`: `from` is null when the value
 * did not change within the window).
 */
export type SeriesReading =
  | { series: SeriesRef; kind: 'number'; value: number }
  | { series: SeriesRef; kind: 'text'; text: string }
  | { series: SeriesRef; kind: 'change'; latest: string; change: { from: string; at: number } | null };

export interface ForClocks {
  warningSince: number | null;
  criticalSince: number | null;
}

export interface RuleVerdict {
  observed: ObservedLevel;
  clocks: ForClocks;
  /** The level to report; undefined when there is no data (keep what was reported). */
  reported?: Level;
  /** The worst series' value (numeric; bool 1/0); null for strings and no data. */
  value: number | null;
  message: string;
}

export function compare(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

export function levelOf(definition: RuleDefinition, reading: SeriesReading): Level {
  const breach: BreachLevel = definition.level ?? 'critical';
  switch (reading.kind) {
    case 'number': {
      if (definition.type === 'bool') return (reading.value === 1) === definition.alertWhen ? breach : 'ok';
      const comparison = definition.comparison ?? '>';
      if (definition.criticalThreshold !== null && compare(reading.value, comparison, definition.criticalThreshold)) return 'critical';
      if (definition.warningThreshold !== null && compare(reading.value, comparison, definition.warningThreshold)) return 'warning';
      return 'ok';
    }
    case 'text':
      return reading.text === definition.expected ? 'ok' : breach;
    case 'change':
      return reading.change ? breach : 'ok';
  }
}

/** How much further than `b` the reading `a` goes in the comparison's direction (positive: further). */
function extremity(definition: RuleDefinition, a: SeriesReading, b: SeriesReading): number {
  if (definition.type !== 'numeric' || a.kind !== 'number' || b.kind !== 'number') return 0;
  if (definition.comparison === '>' || definition.comparison === '>=') return a.value - b.value;
  if (definition.comparison === '<' || definition.comparison === '<=') return b.value - a.value;
  return 0;
}

/** The worst reading and its level; the first of equals (readings come sorted by series). */
export function worstOf(definition: RuleDefinition, readings: readonly SeriesReading[]): { reading: SeriesReading; level: Level } | undefined {
  let worst: { reading: SeriesReading; level: Level } | undefined;
  for (const reading of readings) {
    const level = levelOf(definition, reading);
    const rankDiff = worst ? LEVEL_RANK[level] - LEVEL_RANK[worst.level] : 1;
    if (rankDiff > 0 || (rankDiff === 0 && worst && extremity(definition, reading, worst.reading) > 0)) worst = { reading, level };
  }
  return worst;
}

export function nextClocks(previous: ForClocks, observed: Level, now: number): ForClocks {
  return {
    warningSince: LEVEL_RANK[observed] >= LEVEL_RANK.warning ? (previous.warningSince ?? now) : null,
    criticalSince: observed === 'critical' ? (previous.criticalSince ?? now) : null,
  };
}

export function reportedLevel(clocks: ForClocks, forSeconds: number, now: number): Level {
  const held = (since: number | null) => since !== null && now - since >= forSeconds * 1000;
  if (held(clocks.criticalSince)) return 'critical';
  if (held(clocks.warningSince)) return 'warning';
  return 'ok';
}

/** 93.2, 0.0421, 524288000: enough digits to read, none of float noise. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1 ? String(Number(value.toFixed(3))) : String(Number(value.toPrecision(3)));
}

/** 45s, 5m, 1m30s, 2h, 1d2h. */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.slice(0, 2).join('');
}

function seriesName(series: SeriesRef): string {
  const labels = Object.entries(series.labels);
  return labels.length === 0 ? series.name : `${series.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

function subject(definition: RuleDefinition, series: SeriesRef): string {
  const name = seriesName(series);
  if (definition.type !== 'numeric' || definition.aggregation === 'last' || definition.aggregation === null) return `${name} on ${series.hostname}`;
  return `${definition.aggregation}(${name}) over ${formatDuration((definition.windowSeconds ?? 0) * 1000)} on ${series.hostname}`;
}

function thresholdsText(definition: RuleDefinition): string {
  const comparison = definition.comparison ?? '>';
  const parts: string[] = [];
  if (definition.warningThreshold !== null) parts.push(`warning ${comparison} ${formatNumber(definition.warningThreshold)}`);
  if (definition.criticalThreshold !== null) parts.push(`critical ${comparison} ${formatNumber(definition.criticalThreshold)}`);
  return parts.join(', ');
}

function describeReading(definition: RuleDefinition, reading: SeriesReading, level: Level, now: number): string {
  const who = subject(definition, reading.series);
  const tag = level === 'ok' ? '' : ` (${level})`;
  switch (reading.kind) {
    case 'number': {
      if (definition.type === 'bool') return `${who} is ${reading.value === 1}${tag}`;
      if (level === 'ok') return `${who} = ${formatNumber(reading.value)}, within thresholds (${thresholdsText(definition)})`;
      const threshold = level === 'critical' ? definition.criticalThreshold : definition.warningThreshold;
      return `${who} = ${formatNumber(reading.value)} ${definition.comparison} ${formatNumber(threshold ?? 0)}${tag}`;
    }
    case 'text':
      return level === 'ok' ? `${who} is ${JSON.stringify(reading.text)} as expected` : `${who} is ${JSON.stringify(reading.text)}, expected ${JSON.stringify(definition.expected)}${tag}`;
    case 'change':
      if (!reading.change) return `${who} is ${JSON.stringify(reading.latest)}, unchanged in the last ${formatDuration((definition.windowSeconds ?? 0) * 1000)}`;
      return `${who} changed from ${JSON.stringify(reading.change.from)} to ${JSON.stringify(reading.latest)} ${formatDuration(now - reading.change.at)} ago${tag}`;
  }
}

function noDataMessage(definition: RuleDefinition, matchedSeries: number): string {
  const kept = 'keeping the previous state';
  if (matchedSeries === 0) return `no ${definition.type} series ${definition.metric} matches this rule; ${kept}`;
  if (definition.type === 'numeric') {
    return `no data for ${definition.metric} in the last ${formatDuration((definition.windowSeconds ?? 0) * 1000)} (${matchedSeries} series); ${kept}`;
  }
  return `no value yet for ${definition.metric} (${matchedSeries} series); ${kept}`;
}

export interface RuleInputs {
  definition: RuleDefinition;
  previous: ForClocks;
  /** How many series match the selector, with or without data. */
  matchedSeries: number;
  /** One per series with data, sorted by series (machine, name, labels). */
  readings: readonly SeriesReading[];
  now: number;
}

export function evaluateRule({ definition, previous, matchedSeries, readings, now }: RuleInputs): RuleVerdict {
  const worst = worstOf(definition, readings);
  if (!worst) return { observed: 'no_data', clocks: previous, value: null, message: noDataMessage(definition, matchedSeries) };

  const clocks = nextClocks(previous, worst.level, now);
  const reported = reportedLevel(clocks, definition.forSeconds, now);
  let message = describeReading(definition, worst.reading, worst.level, now);
  if (worst.level !== 'ok') {
    const since = worst.level === 'critical' ? clocks.criticalSince : clocks.warningSince;
    if (since !== null && now - since >= 1000) message += ` for ${formatDuration(now - since)}`;
  }
  if (readings.length > 1) message += `, worst of ${readings.length} series`;
  if (LEVEL_RANK[reported] < LEVEL_RANK[worst.level]) {
    message += `; ${reported === 'ok' ? 'alerts' : worst.level} once it has held ${formatDuration(definition.forSeconds * 1000)}`;
  }
  const value = worst.reading.kind === 'number' ? worst.reading.value : null;
  return { observed: worst.level, clocks, reported, value, message };
}
