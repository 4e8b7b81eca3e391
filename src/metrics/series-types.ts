/**
 * The value types of a series, defined once for the database (series.type), the API schemas and
 * the dashboard. Numeric series keep raw samples and rollups; bool and string series keep their
 * latest value and a history of changes (series_changes).
 */
export const SERIES_TYPES = ['numeric', 'bool', 'string'] as const;
export type SeriesType = (typeof SERIES_TYPES)[number];
