/**
 * The value types of a series, defined once for the database (series.type), the API schemas and
 * the dashboard. Numeric series keep raw samples and rollups; bool and string series keep their
 * latest value and a history of changes (series_changes).
 */
export const SERIES_TYPES = ['numeric', 'bool', 'string'] as const;
export type SeriesType = (typeof SERIES_TYPES)[number];

/**
 * A series' value as stored (series.last_num / last_text) turned into what the API gives:
 * numeric → the number, bool → true/false (stored 1/0), string → the text; null when none.
 */
export function storedValue(type: SeriesType, num: number | null, text: string | null): number | boolean | string | null {
  if (type === 'string') return text;
  if (num === null) return null;
  return type === 'bool' ? num !== 0 : num;
}

/** A JSON object column (labels, a machine's info) read back; anything else reads as {}. */
export function parseStoredObject<T = unknown>(text: string): Record<string, T> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, T>) : {};
  } catch {
    return {};
  }
}
