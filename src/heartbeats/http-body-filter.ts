/**
 * Healthchecks' keyword filter for HTTP ping bodies (`filter_http_body`): the body decides what a
 * ping is, whatever its URL said. Keywords are comma-separated plain substrings (case-sensitive,
 * no patterns, so no user regular expression ever runs); a failure keyword wins over a success
 * keyword, which wins over a start keyword; a body matching none is a failure with
 * `filter_default_fail`, else an ignored ping.
 */
import type { KeywordFilters } from './heartbeats.repository.js';

/** Whether any of the comma-separated keywords (trimmed, empty ones skipped) occurs in the text. */
export function matchKeywords(text: string, keywords: string): boolean {
  return keywords
    .split(',')
    .map((keyword) => keyword.trim())
    .some((keyword) => keyword !== '' && text.includes(keyword));
}

export type FilteredKind = 'fail' | 'success' | 'start' | 'ign';

export function kindFromBody(body: string, filters: Pick<KeywordFilters, 'startKw' | 'successKw' | 'failureKw' | 'filterDefaultFail'>): FilteredKind {
  if (filters.failureKw && matchKeywords(body, filters.failureKw)) return 'fail';
  if (filters.successKw && matchKeywords(body, filters.successKw)) return 'success';
  if (filters.startKw && matchKeywords(body, filters.startKw)) return 'start';
  return filters.filterDefaultFail ? 'fail' : 'ign';
}
