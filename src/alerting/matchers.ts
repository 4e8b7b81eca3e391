/**
 * Silence matchers, after Alertmanager's: a field of the monitor, an operator and a value. All
 * matchers of a silence must match. Regular expressions match the whole value (anchored), as in
 * Alertmanager, so `db-.*` does not silence `prod-db-1`. For tags, `=` and `=~` need one tag
 * that matches; `!=` and `!~` need that no tag matches.
 */
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

/** Returns the error message of an invalid regular expression, or null when it compiles. */
export function regexProblem(pattern: string): string | null {
  try {
    new RegExp(`^(?:${pattern})$`);
    return null;
  } catch (error) {
    return `Invalid regular expression: ${(error as Error).message}`;
  }
}

function valueTest(matcher: Matcher): (value: string) => boolean {
  if (matcher.op === '=~' || matcher.op === '!~') {
    const regex = new RegExp(`^(?:${matcher.value})$`);
    return (value) => regex.test(value);
  }
  return (value) => value === matcher.value;
}

export function matcherMatches(matcher: Matcher, target: MatchTarget): boolean {
  const test = valueTest(matcher);
  const negated = matcher.op === '!=' || matcher.op === '!~';
  const hit = matcher.field === 'tag' ? target.tags.some(test) : test(matcher.field === 'monitor_id' ? target.monitorId : target[matcher.field]);
  return negated ? !hit : hit;
}

export function allMatch(matchers: readonly Matcher[], target: MatchTarget): boolean {
  return matchers.every((matcher) => matcherMatches(matcher, target));
}
