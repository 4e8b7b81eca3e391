/**
 * What a kind declares as its history: the entries it really recorded (checks, pings, ingests,
 * sweep verdicts), newest first for `/monitors/{id}/results`, and oldest first over a time range
 * for uptime. Uptime is the share of the window the monitor spent up, computed the same way for
 * every kind from these entries: each entry's status holds until the next entry (see uptime.ts).
 */
import type { Db } from '../db/database.js';
import type { ResultStatus } from '../monitors/kinds.js';

export interface HistoryEntry {
  at: number;
  status: ResultStatus;
  latencyMs: number | null;
  value: number | null;
  message: string | null;
  /** What recorded it: `check`, `ping`, `ingest`, `sweep`… (shown by /results). */
  source: string;
}

export interface HistorySource {
  /** The newest entries first; `before` pages backwards in time. */
  latest(db: Db, monitorId: string, options: { limit: number; before?: number }): Promise<HistoryEntry[]>;
  /**
   * Entries with `from <= at < to`, oldest first, plus the last entry before `from` (if any, as the
   * first element), so the status at the window's start is known.
   */
  between(db: Db, monitorId: string, from: number, to: number): Promise<HistoryEntry[]>;
}
