/**
 * Export encodings of points (seed 004's export): JSON (the API's own shape), CSV (RFC 4180:
 * a header row, CRLF line ends, fields with a comma, quote, CR or LF quoted with inner quotes
 * doubled) and JSON Lines (one object per line). CSV and JSONL are flat: one row per point,
 * with the series' identity on every row, so that several series fit one file.
 *
 * Encoders yield text piece by piece (one row, or one series in JSON), so a large export is
 * streamed and never held in memory as one string.
 */
import { toIso } from '../http/schemas.js';
import { lastValueOf, type Point, type PointsResult, type SeriesValue, type ValuePoint } from './series.service.js';
import type { SeriesRecord } from './series.repository.js';

export const EXPORT_FORMATS = ['json', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

/** The columns of a CSV export and the keys of a JSONL row, in order. */
export const EXPORT_COLUMNS = ['series_id', 'machine_id', 'hostname', 'name', 'labels', 'type', 'unit', 'resolution', 'step_seconds', 't', 'value', 'min', 'max', 'avg', 'count', 'last'] as const;

export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | null>;

const iso = toIso;

/** A series as the API shows it (without its latest value). */
export function seriesIdentity(series: SeriesRecord) {
  return {
    id: series.id,
    machine_id: series.machineId,
    hostname: series.hostname,
    name: series.name,
    type: series.type,
    unit: series.unit,
    labels: series.labels,
  };
}

/** A series with its latest value, for the list and GET /series/{id}. */
export function seriesResponse(series: SeriesRecord) {
  return { ...seriesIdentity(series), last_value: lastValueOf(series), last_at: series.lastAt === null ? null : iso(series.lastAt), created_at: iso(series.createdAt) };
}

function pointJson(point: Point) {
  return 'value' in point ? { t: iso(point.t), value: point.value } : { t: iso(point.t), min: point.min, max: point.max, avg: point.avg, count: point.count, last: point.last };
}

/** The JSON answer of the points route, and one element of a JSON export. */
export function pointsResponse(result: PointsResult) {
  return {
    series: seriesIdentity(result.series),
    from: iso(result.from),
    to: iso(result.to),
    resolution: result.resolution,
    step_seconds: result.stepMs === null ? null : result.stepMs / 1000,
    initial: result.initial === null ? null : { t: iso(result.initial.t), value: result.initial.value as SeriesValue },
    points: result.points.map(pointJson),
  };
}

/** Flat rows of one series' result: the change in force at `from` first (bool/string), then the points. */
export function exportRows(result: PointsResult): ExportRow[] {
  const s = result.series;
  const identity = {
    series_id: s.id,
    machine_id: s.machineId,
    hostname: s.hostname,
    name: s.name,
    labels: JSON.stringify(s.labels),
    type: s.type,
    unit: s.unit,
    resolution: result.resolution,
    step_seconds: result.stepMs === null ? null : result.stepMs / 1000,
  };
  const empty = { value: null, min: null, max: null, avg: null, count: null, last: null };
  const valueRow = (p: ValuePoint): ExportRow => ({ ...identity, t: iso(p.t), ...empty, value: p.value });
  const rows: ExportRow[] = result.initial ? [valueRow(result.initial)] : [];
  for (const p of result.points) {
    rows.push('value' in p ? valueRow(p) : { ...identity, t: iso(p.t), value: null, min: p.min, max: p.max, avg: p.avg, count: p.count, last: p.last });
  }
  return rows;
}

/**
 * One CSV field (RFC 4180); null is an empty field. Text that a spreadsheet would run as a
 * formula (starting with = + - @, a tab or a CR: hostnames, labels and string values come from
 * agents) gets a leading apostrophe, as OWASP advises; numbers are written as they are.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvLine = (values: readonly (string | number | boolean | null)[]) => `${values.map(csvField).join(',')}\r\n`;

/** The text of an export, piece by piece. */
export async function* encodeExport(format: ExportFormat, results: AsyncIterable<PointsResult>): AsyncGenerator<string> {
  if (format === 'json') {
    let first = true;
    yield '[';
    for await (const result of results) {
      yield (first ? '' : ',') + JSON.stringify(pointsResponse(result));
      first = false;
    }
    yield ']';
    return;
  }
  if (format === 'csv') yield csvLine(EXPORT_COLUMNS);
  for await (const result of results) {
    // One piece per series: a series holds at most MAX_POINTS rows.
    let piece = '';
    for (const row of exportRows(result)) piece += format === 'csv' ? csvLine(EXPORT_COLUMNS.map((c) => row[c])) : `${JSON.stringify(row)}\n`;
    if (piece) yield piece;
  }
}

/** `series-12_20261121T110000Z_20261121T120000Z.csv`: only characters safe in any header and file system. */
export function exportFilename(subject: string, from: number, to: number, format: ExportFormat): string {
  const stamp = (ms: number) =>
    iso(ms)
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '');
  return `${subject.replace(/[^A-Za-z0-9_-]/g, '_')}_${stamp(from)}_${stamp(to)}.${format}`;
}
