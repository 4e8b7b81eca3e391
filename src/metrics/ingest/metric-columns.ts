/**
 * A checked batch's metrics as a few arrays instead of one object per metric, for the trip from
 * the body-check thread to the main thread (body-checker.ts): copying 1,000 objects between
 * threads costs more than parsing the JSON they came from, while a handful of arrays (numbers in
 * typed arrays, moved rather than copied) costs a tenth of it. The main thread builds the
 * IngestMetric objects back in one tight loop.
 */
import { SERIES_TYPES } from '../series-types.js';
import type { IngestMetric } from './ingest-body.js';
import { seriesKey } from './series-cache.js';

export interface MetricColumns {
  names: string[];
  labelsKeys: string[];
  /** Index into SERIES_TYPES. */
  types: Uint8Array;
  ats: Float64Array;
  /** numeric: the value; bool: 1 or 0; string: NaN (no number). */
  values: Float64Array;
  /** The string values (null for other types); null when the batch has no string metric. */
  texts: (string | null)[] | null;
  /** Units as sent (undefined: not sent); null when no metric sent one. */
  units: (string | null | undefined)[] | null;
}

const TYPE_INDEX = new Map(SERIES_TYPES.map((type, i) => [type, i]));

export function toColumns(metrics: readonly IngestMetric[]): MetricColumns {
  const n = metrics.length;
  const columns: MetricColumns = {
    names: new Array<string>(n),
    labelsKeys: new Array<string>(n),
    types: new Uint8Array(n),
    ats: new Float64Array(n),
    values: new Float64Array(n),
    texts: metrics.some((m) => m.text !== null) ? new Array<string | null>(n) : null,
    units: metrics.some((m) => m.unit !== undefined) ? new Array<string | null | undefined>(n) : null,
  };
  for (let i = 0; i < n; i++) {
    const m = metrics[i]!;
    columns.names[i] = m.name;
    columns.labelsKeys[i] = m.labelsKey;
    columns.types[i] = TYPE_INDEX.get(m.type)!;
    columns.ats[i] = m.at;
    columns.values[i] = m.value ?? NaN;
    if (columns.texts) columns.texts[i] = m.text;
    if (columns.units) columns.units[i] = m.unit;
  }
  return columns;
}

/** The typed arrays' buffers, to move (not copy) with postMessage. */
export const transferables = (columns: MetricColumns): ArrayBuffer[] => [columns.types.buffer as ArrayBuffer, columns.ats.buffer as ArrayBuffer, columns.values.buffer as ArrayBuffer];

export function fromColumns(columns: MetricColumns): IngestMetric[] {
  const { names, labelsKeys, types, ats, values, texts, units } = columns;
  // Labels objects are shared by the metrics of one label set (a batch has few): parsed once each.
  const labelsOf = new Map<string, Record<string, string>>();
  const metrics = new Array<IngestMetric>(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const labelsKey = labelsKeys[i]!;
    let labels = labelsOf.get(labelsKey);
    if (labels === undefined) labelsOf.set(labelsKey, (labels = Object.freeze(JSON.parse(labelsKey) as Record<string, string>)));
    const type = SERIES_TYPES[types[i]!]!;
    metrics[i] = {
      seriesId: 0,
      name,
      type,
      labels,
      at: ats[i]!,
      value: type === 'string' ? null : values[i]!,
      text: texts ? texts[i]! : null,
      unit: units ? units[i] : undefined,
      labelsKey,
      key: seriesKey(name, labelsKey),
    };
  }
  return metrics;
}
