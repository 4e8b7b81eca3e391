/**
 * Typed assertions checked on every HTTP response (what Gatus and Uptime Kuma users rely on).
 * Each failed assertion yields a plain sentence; the check's status is the worst severity among
 * the failures (`down` unless the assertion says `warning`).
 */
import type { ResultStatus } from '../../monitors/kinds.js';
import { compileUserPattern, userPatternProblem, UserPatternError } from '../../patterns/user-pattern.js';

export const ASSERTION_TYPES = ['status_in', 'response_time_under', 'body_contains', 'body_not_contains', 'json_path_equals', 'json_path_matches', 'certificate_valid_for'] as const;

type Severity = 'down' | 'warning';

export type Assertion = { severity?: Severity } & (
  | { type: 'status_in'; values: number[] }
  | { type: 'response_time_under'; ms: number }
  | { type: 'body_contains'; value: string }
  | { type: 'body_not_contains'; value: string }
  | { type: 'json_path_equals'; path: string; value: unknown }
  | { type: 'json_path_matches'; path: string; pattern: string }
  | { type: 'certificate_valid_for'; days: number }
);

export interface ObservedResponse {
  status: number;
  latencyMs: number;
  body: string;
  /** Set for HTTPS: when the server's certificate stops being valid. */
  certificateValidTo?: number;
  now: number;
}

export interface AssertionFailure {
  severity: Severity;
  message: string;
}

const DAY_MS = 86_400_000;

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

/** Reads `$.a.b[0].c` (or `a.b.0.c`) from a parsed JSON document. */
export function readJsonPath(document: unknown, path: string): { found: boolean; value?: unknown } {
  const segments = path
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '');
  let current: unknown = document;
  for (const segment of segments) {
    // Own keys only: `$.constructor` or `$.__proto__` are not part of a JSON document.
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return { found: false };
    current = (current as Record<string, unknown>)[segment];
  }
  return { found: true, value: current };
}

/** Deeper values are not compared (a JSON document is parsed without recursion; comparing it is not). */
const MAX_COMPARED_DEPTH = 256;

/** Whether a parsed JSON value nests deeper than `limit`, walked without recursion. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Equality of two JSON values as JSON means it: objects are equal whatever the order of their
 * keys (a server may send them in any order), arrays element by element. Both sides are at most
 * MAX_COMPARED_DEPTH deep (checked before), so the recursion is bounded.
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(bRecord, key) && jsonEqual((a as Record<string, unknown>)[key], bRecord[key]));
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

/**
 * On the linear-time engine (patterns/user-pattern.ts). A pattern saved before patterns were
 * checked against RE2 may not compile: the assertion then fails with the reason rather than
 * throwing out of the check.
 */
function patternFailure(assertion: { path: string; pattern: string }, value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    return compileUserPattern(assertion.pattern).test(text) ? undefined : `${assertion.path} is ${JSON.stringify(value)}, which does not match /${assertion.pattern}/`;
  } catch (error) {
    if (error instanceof UserPatternError) return `the pattern of ${assertion.path} cannot run: ${error.message}`;
    throw error;
  }
}

function checkOne(assertion: Assertion, response: ObservedResponse): string | undefined {
  switch (assertion.type) {
    case 'status_in':
      return assertion.values.includes(response.status) ? undefined : `expected status ${assertion.values.join(' or ')}, got ${response.status}`;
    case 'response_time_under':
      return response.latencyMs < assertion.ms ? undefined : `response took ${response.latencyMs} ms, limit is ${assertion.ms} ms`;
    case 'body_contains':
      return response.body.includes(assertion.value) ? undefined : `body does not contain "${assertion.value}"`;
    case 'body_not_contains':
      return response.body.includes(assertion.value) ? `body contains "${assertion.value}"` : undefined;
    case 'json_path_equals':
    case 'json_path_matches': {
      const json = parseJson(response.body);
      if (!json.ok) return `body is not JSON, cannot read ${assertion.path}`;
      const { found, value } = readJsonPath(json.value, assertion.path);
      if (!found) return `${assertion.path} is missing from the body`;
      // JSON.stringify recurses: a target's value nested thousands of levels deep would overflow the stack.
      if (nestedDeeperThan(value, MAX_COMPARED_DEPTH)) return `${assertion.path} is nested more than ${MAX_COMPARED_DEPTH} levels deep, too deep to compare`;
      if (assertion.type === 'json_path_equals') {
        return jsonEqual(value, assertion.value) ? undefined : `${assertion.path} is ${JSON.stringify(value)}, expected ${JSON.stringify(assertion.value)}`;
      }
      return patternFailure(assertion, value);
    }
    case 'certificate_valid_for': {
      if (response.certificateValidTo === undefined) return 'no TLS certificate to check (not an https URL)';
      const msLeft = response.certificateValidTo - response.now;
      if (msLeft >= 0) {
        const daysLeft = Math.floor(msLeft / DAY_MS);
        return daysLeft >= assertion.days ? undefined : `certificate expires in ${days(daysLeft)}`;
      }
      // Counted from the expiry: flooring the negative remainder said "3 days ago" at 2 days and a bit.
      const daysAgo = Math.floor(-msLeft / DAY_MS);
      return daysAgo === 0 ? 'certificate expired less than a day ago' : `certificate expired ${days(daysAgo)} ago`;
    }
  }
}

export function evaluateAssertions(assertions: readonly Assertion[], response: ObservedResponse): AssertionFailure[] {
  const failures: AssertionFailure[] = [];
  for (const assertion of assertions) {
    const message = checkOne(assertion, response);
    if (message) failures.push({ severity: assertion.severity ?? 'down', message });
  }
  return failures;
}

export function statusOf(failures: readonly AssertionFailure[]): ResultStatus {
  if (failures.length === 0) return 'up';
  return failures.some((f) => f.severity === 'down') ? 'down' : 'warning';
}

const REQUIRED_FIELDS: Record<Assertion['type'], string[]> = {
  status_in: ['values'],
  response_time_under: ['ms'],
  body_contains: ['value'],
  body_not_contains: ['value'],
  json_path_equals: ['path', 'value'],
  json_path_matches: ['path', 'pattern'],
  certificate_valid_for: ['days'],
};

/** What is wrong with each assertion, as [index, field, message, type] (empty when all are fine). */
export function assertionProblems(assertions: readonly Record<string, unknown>[]): [number, string, string, string][] {
  const problems: [number, string, string, string][] = [];
  assertions.forEach((assertion, index) => {
    const type = assertion.type as Assertion['type'];
    for (const field of REQUIRED_FIELDS[type] ?? []) {
      if (assertion[field] === undefined) problems.push([index, field, `Field required for a ${type} assertion`, 'missing']);
    }
    if (type === 'json_path_matches' && typeof assertion.pattern === 'string') {
      const problem = userPatternProblem(assertion.pattern);
      if (problem) problems.push([index, 'pattern', problem, 'value_error']);
    }
  });
  return problems;
}
