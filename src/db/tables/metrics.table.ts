/** Agent metrics (migration 0007): see the migration for what each table holds. */
import type { Generated } from 'kysely';

export interface IngestBatchesTable {
  tenant_id: string;
  ingest_id: string;
  received_at: number;
  /** Kept until then (METRICS_INGEST_ID_TTL_HOURS after receipt), then pruned. */
  expires_at: number;
  machine_id: string | null;
  /** The first answer, JSON, replayed to a duplicate. */
  response: string;
}

export interface MachinesTable {
  /** The machine's monitor (kind `machine`). */
  monitor_id: string;
  tenant_id: string;
  hostname: string;
  os: string | null;
  /** Other fields of the ingest's `machine` object, JSON. */
  info: Generated<string>;
  first_seen_at: number;
  last_seen_at: number;
}

export interface SeriesTable {
  id: Generated<number>;
  tenant_id: string;
  machine_id: string;
  name: string;
  /** Canonical JSON (sorted keys), `{}` when none. */
  labels: Generated<string>;
  /** numeric | bool | string */
  type: string;
  unit: string | null;
  created_at: number;
  last_at: number | null;
  /** numeric: the value; bool: 1 or 0. */
  last_num: number | null;
  /** string series: the value. */
  last_text: string | null;
}

/** Raw numeric samples; primary key (series_id, at). */
export interface SamplesTable {
  series_id: number;
  at: number;
  value: number;
}

/** Bool and string series: one row per change of value; primary key (series_id, at). */
export interface SeriesChangesTable {
  series_id: number;
  at: number;
  /** 'true' / 'false', or the string. */
  value: string;
}

/** Per-minute or per-hour aggregate of a numeric series; primary key (series_id, bucket_start). */
export interface SeriesRollupsTable {
  series_id: number;
  bucket_start: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  last: number;
  last_at: number;
}
