/**
 * Every regular expression a user writes (HTTP assertions' `json_path_matches`, silence matchers
 * `=~`/`!~`) is compiled here, and only here, on RE2JS: a linear-time engine (RE2's automata),
 * never V8's backtracking one, where `^(a+)+$` against 30 `a`s and a `!` stalls the whole
 * process, every tenant's requests with it. RE2 has no backreferences and no lookaround; a
 * pattern that uses them is refused when it is written (422), with a message that says so.
 *
 * Compiled patterns are cached by source, because the same few patterns run on every check and
 * every alert event; the cache is bounded so that many distinct patterns cannot grow it without
 * end.
 */
import { RE2JS } from 're2js';

export interface UserPattern {
  /** Whether the pattern matches somewhere in the value, as `RegExp.prototype.test` does. */
  test(value: string): boolean;
  /** Whether the pattern matches the whole value, as if written `^(?:pattern)$`. */
  testWhole(value: string): boolean;
}

/** A pattern RE2 cannot compile; `message` is meant for a 422 `msg`. */
export class UserPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserPatternError';
  }
}

const MAX_CACHED = 1000;
const cache = new Map<string, UserPattern | UserPatternError>();

function compile(source: string): UserPattern | UserPatternError {
  try {
    const compiled = RE2JS.compile(source);
    return { test: (value) => compiled.test(value), testWhole: (value) => compiled.testExact(value) };
  } catch (error) {
    // RE2JS says "error parsing regexp: invalid or unsupported Perl syntax: `(?=`": the reason
    // is kept, and the rule it comes from is added, since the same pattern works in JavaScript.
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    return new UserPatternError(`Invalid regular expression: ${reason}. Patterns use RE2 syntax, which runs in linear time: no backreferences (\\1) and no lookaround ((?=…), (?!…), (?<=…), (?<!…))`);
  }
}

function cached(source: string): UserPattern | UserPatternError {
  let entry = cache.get(source);
  if (entry === undefined) {
    entry = compile(source);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!); // the oldest entry
    cache.set(source, entry);
  }
  return entry;
}

/** The compiled pattern; throws UserPatternError for syntax RE2 cannot run. */
export function compileUserPattern(source: string): UserPattern {
  const entry = cached(source);
  if (entry instanceof UserPatternError) throw entry;
  return entry;
}

/** Why the pattern cannot be used (the message for a 422), or null when it compiles. */
export function userPatternProblem(source: string): string | null {
  const entry = cached(source);
  return entry instanceof UserPatternError ? entry.message : null;
}
