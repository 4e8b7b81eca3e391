/**
 * The body of `POST /api/v1/ingest/metrics`, checked by hand in one pass instead of by the JSON
 * schema validator: a batch holds up to INGEST_MAX_METRICS items, each item's `value` must match
 * its own `type` (which a schema can only say through `oneOf`, whose errors point nowhere
 * useful), and labels are put in canonical form on the way. Each problem names its item:
 * `["body", "metrics", 3, "value"]`.
 *
 * The accepted shape (the route's OpenAPI schema says the same):
 * - `machine`: `hostname` (required), `os` (optional), `tags` (optional list, the machine
 *   monitor's tags), any other field kept as the machine's `info`.
 * - `metrics[]`: `name`, `type` (`numeric` | `bool` | `string`), `value` (a finite number, a
 *   boolean or a string, as the type says), optional `unit`, `labels` (string → string) and `ts`.
 * - `ts`: ISO 8601 with a time zone (`2026-11-23T10:00:00Z`, `…+01:00`) or an integer of epoch
 *   milliseconds; absent means the time the server received the batch. A time before 2000 (most
 *   likely epoch seconds sent as milliseconds) or more than MAX_FUTURE_SKEW_MS ahead of the
 *   server's clock is refused.
 * - `sent_at`: null or ISO 8601; checked, not stored.
 */
import type { FieldProblem } from '../../errors.js';
import type { StoredSample } from '../sample-events.js';
import { SERIES_TYPES, type SeriesType } from '../series-types.js';
import { seriesKey } from './series-cache.js';

export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/;
export const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_CHARS = 256;
export const MAX_STRING_VALUE_CHARS = 4096;
export const MAX_UNIT_CHARS = 32;
export const MAX_HOSTNAME_CHARS = 253;
export const MAX_OS_CHARS = 100;
export const MAX_INFO_JSON_CHARS = 8192;
export const MAX_TAGS = 50;
export const MAX_TAG_CHARS = 100;
/** Agents' clocks drift; a sample further ahead than this is a bug in the agent. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Earliest accepted `ts`: 2000-01-01. Epoch seconds read as milliseconds land in January 1970. */
export const MIN_TS = Date.UTC(2000, 0, 1);
/** A body with many bad items gets this many problems back, not one per item. */
export const MAX_PROBLEMS = 100;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const METRIC_FIELDS = new Set(['name', 'type', 'value', 'unit', 'labels', 'ts']);
const TOP_FIELDS = new Set(['machine', 'metrics', 'sent_at']);

/**
 * One checked metric. It has the shape of a StoredSample, so that the writer hands the same
 * objects to the sample listeners once it has set `seriesId` (a batch of 10,000 metrics then
 * allocates 10,000 objects fewer).
 */
export interface IngestMetric extends StoredSample {
  type: SeriesType;
  /** Set by the writer once the series is resolved; 0 before. */
  seriesId: number;
  /** undefined: not sent (the series keeps its unit). */
  unit: string | null | undefined;
  labels: Record<string, string>;
  /** Canonical JSON of the labels (keys sorted), the series' identity with the name. */
  labelsKey: string;
  /** The series' key in its machine: name and labelsKey (series-cache.ts). */
  key: string;
}

export interface IngestMachine {
  hostname: string;
  /** undefined: not sent (the machine keeps its os). */
  os: string | null | undefined;
  /** undefined: not sent (the monitor keeps its tags). */
  tags: string[] | undefined;
  /** JSON of the other fields; undefined when there were none (the machine keeps its info). */
  info: string | undefined;
}

export interface IngestBatch {
  machine: IngestMachine;
  metrics: IngestMetric[];
  receivedAt: number;
}

export type BodyCheck = { ok: true; batch: IngestBatch } | { ok: false; problems: FieldProblem[] };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** Labels as one JSON text with sorted keys: the same labels in any order name the same series. */
export function canonicalLabels(labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '{}';
  keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${JSON.stringify(labels[keys[i]!])}`;
  return `${out}}`;
}

/** A time for a message: ISO 8601, or the number itself past the dates that exist (±8.64e15 ms), where toISOString throws. */
const shownTime = (at: number) => (Math.abs(at) <= 8.64e15 ? new Date(at).toISOString() : `${at} ms`);

/** `ts` as epoch ms, or a message saying what is wrong with it. */
function parseTs(ts: unknown, receivedAt: number): number | string {
  let at: number;
  if (typeof ts === 'number') {
    if (!Number.isSafeInteger(ts)) return 'ts must be an integer of epoch milliseconds or an ISO 8601 string';
    at = ts;
  } else if (typeof ts === 'string') {
    if (!ISO_8601.test(ts)) return 'ts must be ISO 8601 with a time zone (e.g. 2026-11-23T10:00:00Z) or epoch milliseconds';
    at = Date.parse(ts);
    if (Number.isNaN(at)) return `ts "${ts}" is not a valid date`;
  } else {
    return `ts must be a string or an integer, not ${typeName(ts)}`;
  }
  if (at < MIN_TS) return `ts ${shownTime(at)} is before 2000 (epoch seconds sent instead of milliseconds?)`;
  if (at > receivedAt + MAX_FUTURE_SKEW_MS) return `ts ${shownTime(at)} is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server's clock`;
  return at;
}

class Problems {
  readonly list: FieldProblem[] = [];
  /** Returns undefined, so that a checker can `return problems.add(…)`. */
  add(loc: (string | number)[], msg: string, type = 'value_error'): undefined {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ loc: ['body', ...loc], msg, type });
    return undefined;
  }
  get full(): boolean {
    return this.list.length >= MAX_PROBLEMS;
  }
}

function checkMachine(raw: unknown, problems: Problems): IngestMachine | undefined {
  if (raw === undefined) return problems.add(['machine'], 'Field required', 'missing');
  if (!isObject(raw)) return problems.add(['machine'], `machine must be an object, not ${typeName(raw)}`, 'object_type');
  const { hostname, os, tags, ...rest } = raw;
  let ok = true;
  const fail = (loc: (string | number)[], msg: string, type?: string) => {
    ok = false;
    problems.add(['machine', ...loc], msg, type);
  };
  if (hostname === undefined) fail(['hostname'], 'Field required', 'missing');
  else if (typeof hostname !== 'string' || hostname.trim() === '' || hostname.length > MAX_HOSTNAME_CHARS || CONTROL.test(hostname)) {
    fail(['hostname'], `hostname must be a non-empty string of at most ${MAX_HOSTNAME_CHARS} characters without control characters`);
  }
  if (os !== undefined && os !== null && (typeof os !== 'string' || os.length > MAX_OS_CHARS)) fail(['os'], `os must be a string of at most ${MAX_OS_CHARS} characters or null`);
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.length > MAX_TAGS) fail(['tags'], `tags must be a list of at most ${MAX_TAGS} strings`);
    else tags.forEach((tag, i) => (typeof tag === 'string' && tag.length >= 1 && tag.length <= MAX_TAG_CHARS ? undefined : fail(['tags', i], `a tag is a string of 1 to ${MAX_TAG_CHARS} characters`)));
  }
  const info = Object.keys(rest).length ? JSON.stringify(rest) : undefined;
  if (info !== undefined && info.length > MAX_INFO_JSON_CHARS) fail([], `the machine's other fields take ${info.length} characters as JSON; at most ${MAX_INFO_JSON_CHARS}`);
  if (!ok) return undefined;
  return { hostname: hostname as string, os: os as string | null | undefined, tags: tags === undefined ? undefined : [...new Set(tags as string[])].sort(), info };
}

function checkLabels(raw: unknown, i: number, problems: Problems): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) return problems.add(['metrics', i, 'labels'], `labels must be an object of string values, not ${typeName(raw)}`, 'object_type');
  const keys = Object.keys(raw);
  if (keys.length > MAX_LABELS) return problems.add(['metrics', i, 'labels'], `at most ${MAX_LABELS} labels per metric (got ${keys.length})`);
  for (const key of keys) {
    const value = raw[key];
    if (!LABEL_KEY.test(key)) return problems.add(['metrics', i, 'labels', key], `label name "${key.slice(0, 80)}" must match ${LABEL_KEY.source}`);
    if (typeof value !== 'string') return problems.add(['metrics', i, 'labels', key], `label values are strings, not ${typeName(value)}`, 'string_type');
    if (value.length > MAX_LABEL_VALUE_CHARS) return problems.add(['metrics', i, 'labels', key], `label values are at most ${MAX_LABEL_VALUE_CHARS} characters`);
  }
  return raw as Record<string, string>;
}

function checkValue(type: SeriesType, value: unknown, i: number, problems: Problems): { value: number | null; text: string | null } | undefined {
  const loc = ['metrics', i, 'value'];
  if (value === undefined) return problems.add(loc, 'Field required', 'missing');
  switch (type) {
    case 'numeric':
      if (typeof value !== 'number') return problems.add(loc, `a numeric metric's value is a number, not ${typeName(value)}`, 'float_type');
      // JSON has no NaN or Infinity, but 1e999 parses to Infinity.
      if (!Number.isFinite(value)) return problems.add(loc, 'value must be a finite number');
      return { value, text: null };
    case 'bool':
      if (typeof value !== 'boolean') return problems.add(loc, `a bool metric's value is true or false, not ${typeName(value)}`, 'bool_type');
      return { value: value ? 1 : 0, text: null };
    case 'string':
      if (typeof value !== 'string') return problems.add(loc, `a string metric's value is a string, not ${typeName(value)}`, 'string_type');
      if (value.length > MAX_STRING_VALUE_CHARS) return problems.add(loc, `a string value is at most ${MAX_STRING_VALUE_CHARS} characters`);
      return { value: null, text: value };
  }
}

function checkMetric(raw: unknown, i: number, receivedAt: number, problems: Problems): IngestMetric | undefined {
  if (!isObject(raw)) return problems.add(['metrics', i], `each metric is an object, not ${typeName(raw)}`, 'object_type');
  const before = problems.list.length;
  for (const key in raw) if (!METRIC_FIELDS.has(key)) problems.add(['metrics', i, key], 'Extra field not permitted', 'extra_forbidden');
  const { name, type, unit, ts } = raw;
  if (name === undefined) problems.add(['metrics', i, 'name'], 'Field required', 'missing');
  else if (typeof name !== 'string' || !METRIC_NAME.test(name)) problems.add(['metrics', i, 'name'], `name must match ${METRIC_NAME.source}`);
  let seriesType: SeriesType | undefined;
  if (type === undefined) problems.add(['metrics', i, 'type'], 'Field required', 'missing');
  else if (!(SERIES_TYPES as readonly unknown[]).includes(type)) problems.add(['metrics', i, 'type'], `Input should be one of: ${SERIES_TYPES.map((t) => `"${t}"`).join(', ')}`, 'enum');
  else seriesType = type as SeriesType;
  const value = seriesType === undefined ? undefined : checkValue(seriesType, raw.value, i, problems);
  if (unit !== undefined && unit !== null && (typeof unit !== 'string' || unit.length > MAX_UNIT_CHARS))
    problems.add(['metrics', i, 'unit'], `unit must be a string of at most ${MAX_UNIT_CHARS} characters or null`);
  const labels = checkLabels(raw.labels, i, problems);
  let at = receivedAt;
  if (ts !== undefined && ts !== null) {
    const parsed = parseTs(ts, receivedAt);
    if (typeof parsed === 'string') problems.add(['metrics', i, 'ts'], parsed);
    else at = parsed;
  }
  if (problems.list.length !== before || !value || !labels || seriesType === undefined) return undefined;
  const labelsKey = canonicalLabels(labels);
  return {
    seriesId: 0,
    name: name as string,
    type: seriesType,
    labels,
    at,
    value: value.value,
    text: value.text,
    unit: unit as string | null | undefined,
    labelsKey,
    key: seriesKey(name as string, labelsKey),
  };
}

/**
 * Checks a parsed JSON body; `receivedAt` is the server's time for metrics without `ts`.
 * `maxMetrics` is INGEST_MAX_METRICS: a longer list is refused before any item is looked at.
 */
export function checkIngestBody(body: unknown, receivedAt: number, maxMetrics: number): BodyCheck {
  const problems = new Problems();
  if (!isObject(body)) {
    problems.add([], `the body is a JSON object, not ${typeName(body)}`, 'object_type');
    return { ok: false, problems: problems.list };
  }
  for (const key in body) if (!TOP_FIELDS.has(key)) problems.add([key], 'Extra field not permitted', 'extra_forbidden');
  const machine = checkMachine(body.machine, problems);
  const rawMetrics = body.metrics;
  const metrics: IngestMetric[] = [];
  if (rawMetrics === undefined) problems.add(['metrics'], 'Field required', 'missing');
  else if (!Array.isArray(rawMetrics)) problems.add(['metrics'], `metrics must be a list, not ${typeName(rawMetrics)}`, 'list_type');
  else if (rawMetrics.length > maxMetrics) {
    problems.add(['metrics'], `Too many metrics in one request: ${rawMetrics.length}; the limit is ${maxMetrics} (INGEST_MAX_METRICS). Send them in several requests.`, 'too_long');
  } else {
    // One series, one type: the same name and labels twice in a batch must agree.
    const types = new Map<string, SeriesType>();
    for (let i = 0; i < rawMetrics.length && !problems.full; i++) {
      const metric = checkMetric(rawMetrics[i], i, receivedAt, problems);
      if (!metric) continue;
      const seen = types.get(metric.key);
      if (seen === undefined) types.set(metric.key, metric.type);
      else if (seen !== metric.type) problems.add(['metrics', i, 'type'], `${metric.name} ${metric.labelsKey} appears earlier in this batch as ${seen}`);
      metrics.push(metric);
    }
  }
  const sentAt = body.sent_at;
  if (sentAt !== undefined && sentAt !== null && (typeof sentAt !== 'string' || !ISO_8601.test(sentAt) || Number.isNaN(Date.parse(sentAt)))) {
    problems.add(['sent_at'], 'sent_at must be null or ISO 8601 with a time zone');
  }
  if (problems.list.length || !machine) return { ok: false, problems: problems.list };
  return { ok: true, batch: { machine, metrics, receivedAt } };
}
