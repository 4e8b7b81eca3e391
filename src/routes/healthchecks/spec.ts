/**
 * The body of Healthchecks' create and update calls, checked as Healthchecks checks it (its
 * `Spec` model, strict types, in hc/api/views.py): unknown fields are ignored (`api_key` among
 * them), `null` is a wrong type, and the first problem, in the model's field order, is answered
 * as `json validation error: <field> <problem>` with Healthchecks' own wording.
 */
import { isValidTimeZone } from '../../auth/tenants.service.js';
import { scheduleProblem } from '../../heartbeats/schedule.js';

export const UNIQUE_FIELDS = ['name', 'slug', 'tags', 'timeout', 'grace'] as const;
export type UniqueField = (typeof UNIQUE_FIELDS)[number];

export interface Spec {
  channels?: string;
  desc?: string;
  failure_kw?: string;
  filter_subject?: boolean;
  filter_body?: boolean;
  filter_http_body?: boolean;
  filter_default_fail?: boolean;
  grace?: number;
  manual_resume?: boolean;
  methods?: '' | 'POST';
  name?: string;
  schedule?: string;
  slug?: string;
  start_kw?: string;
  subject?: string;
  subject_fail?: string;
  success_kw?: string;
  tags?: string;
  timeout?: number;
  tz?: string;
  unique?: UniqueField[];
}

type Check = (value: unknown) => string | null;

const string =
  (maxLength?: number, pattern?: RegExp): Check =>
  (value) => {
    if (typeof value !== 'string') return 'is not a string';
    if (maxLength !== undefined && [...value].length > maxLength) return 'is too long';
    if (pattern && !pattern.test(value)) return 'does not match pattern';
    return null;
  };
const boolean: Check = (value) => (typeof value === 'boolean' ? null : 'is not a boolean');
const seconds: Check = (value) => {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'is not a number';
  if (value < 60) return 'is too small';
  return value > 31_536_000 ? 'is too large' : null;
};
const oneOf =
  (allowed: readonly unknown[]): Check =>
  (value) =>
    allowed.includes(value) ? null : 'has unexpected value';

/** Healthchecks' `check_schedule`: cron or OnCalendar by its guess (scheduleKind), each by its own parser. */
const schedule: Check = (value) => {
  const type = string(100)(value);
  if (type) return type;
  return scheduleProblem(value as string, 'UTC') === null ? null : 'is not a valid cron or OnCalendar expression';
};
const timeZone: Check = (value) => string()(value) ?? (isValidTimeZone(value as string) ? null : 'is not a valid timezone');

/** In the model's order: the first field with a problem is the one named. */
const FIELDS: readonly [keyof Spec, Check][] = [
  ['channels', string()],
  ['desc', string()],
  ['failure_kw', string(200)],
  ['filter_subject', boolean],
  ['filter_body', boolean],
  ['filter_http_body', boolean],
  ['filter_default_fail', boolean],
  ['grace', seconds],
  ['manual_resume', boolean],
  ['methods', oneOf(['', 'POST'])],
  ['name', string(100)],
  ['schedule', schedule],
  ['slug', string(100, /^[a-z0-9_-]*$/)],
  ['start_kw', string(200)],
  ['subject', string(200)],
  ['subject_fail', string(200)],
  ['success_kw', string(200)],
  ['tags', string()],
  ['timeout', seconds],
  ['tz', timeZone],
];

function uniqueProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'unique is not an array';
  return value.every((item) => (UNIQUE_FIELDS as readonly unknown[]).includes(item)) ? null : "an item in 'unique' has unexpected value";
}

/** The spec, or the text of Healthchecks' 400 `error`. */
export function parseSpec(json: Record<string, unknown>): { spec: Spec } | { error: string } {
  const spec: Record<string, unknown> = {};
  for (const [field, check] of FIELDS) {
    if (!(field in json)) continue;
    const problem = check(json[field]);
    if (problem) return { error: `json validation error: ${field} ${problem}` };
    spec[field] = json[field];
  }
  if ('unique' in json) {
    const problem = uniqueProblem(json.unique);
    if (problem) return { error: `json validation error: ${problem}` };
    spec.unique = json.unique;
  }
  return { spec: spec as Spec };
}
