/**
 * Silence matchers, after Alertmanager's: a field of the monitor, an operator and a value. All
 * matchers of a silence must match. Regular expressions match the whole value (anchored), as in
 * Alertmanager, so `db-.*` does not silence `prod-db-1`. For tags, `=` and `=~` need one tag
 * that matches; `!=` and `!~` need that no tag matches.
 */
import { compileUserPattern, userPatternProblem } from '../patterns/user-pattern.js';

export const MATCHER_FIELDS = ['monitor_id', 'kind', 'name', 'tag'] as const;
export type MatcherField = (typeof MATCHER_FIELDS)[number];

export const MATCHER_OPERATORS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOperator = (typeof MATCHER_OPERATORS)[number];

export interface Matcher {
  field: MatcherField;
  op: MatcherOperator;
  value: string;
}

/** What a matcher is checked against. */
export interface MatchTarget {
  monitorId: string;
  kind: string;
  name: string;
  tags: readonly string[];
}

export const isRegexMatcher = (matcher: Pick<Matcher, 'op'>): boolean => matcher.op === '=~' || matcher.op === '!~';

/** Returns why a matcher's pattern cannot be used (the 422 message), or null when it compiles. */
export const regexProblem = (pattern: string): string | null => userPatternProblem(pattern);

/** A regex matcher runs on the linear-time engine (patterns/user-pattern.ts), against the whole value. */
function valueTest(matcher: Matcher): (value: string) => boolean {
  if (isRegexMatcher(matcher)) {
    const pattern = compileUserPattern(matcher.value);
    return (value) => pattern.testWhole(value);
  }
  return (value) => value === matcher.value;
}

export function matcherMatches(matcher: Matcher, target: MatchTarget): boolean {
  // A pattern stored before patterns were checked against RE2 may not compile: such a matcher
  // matches nothing, even negated, so the silence silences nothing rather than everything.
  if (isRegexMatcher(matcher) && regexProblem(matcher.value) !== null) return false;
  const test = valueTest(matcher);
  const negated = matcher.op === '!=' || matcher.op === '!~';
  const hit = matcher.field === 'tag' ? target.tags.some(test) : test(matcher.field === 'monitor_id' ? target.monitorId : target[matcher.field]);
  return negated ? !hit : hit;
}

export function allMatch(matchers: readonly Matcher[], target: MatchTarget): boolean {
  return matchers.every((matcher) => matcherMatches(matcher, target));
}
