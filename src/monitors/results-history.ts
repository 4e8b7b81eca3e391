/**
 * check_results as a kind's history (the checked kinds: http, self): the compact row codec, the
 * insert the result recorder calls, and the HistorySource that uptime and /results read.
 *
 * Codec: status is a small integer (0 down, 1 up, 2 warning: 0 and 1 take no bytes at all in a
 * SQLite record); a message that only restates the status code and latency (the HTTP probe's
 * success sentence "HTTP 200 in 12 ms") is stored as NULL and rebuilt on read, so /results
 * returns what it returned before. A stored message is never NULL otherwise (CheckOutcome's
 * message is a string), so NULL is unambiguous.
 */
import type { Db } from '../db/database.js';
import type { CheckResultsTable } from '../db/tables/check-results.table.js';
import type { HistoryEntry, HistorySource } from '../kinds/history.js';
import type { ResultStatus } from './kinds.js';
import type { RecordedResult } from './results.service.js';
import { ensureKey, keyOf } from './monitor-keys.js';

const STATUS_CODES: Record<ResultStatus, number> = { down: 0, up: 1, warning: 2 };
const STATUSES: readonly ResultStatus[] = ['down', 'up', 'warning'];
/** Attempts at the next free millisecond when concurrent writers (PostgreSQL) keep taking it. */
const MAX_ATTEMPTS = 5;

export type ResultToStore = Omit<RecordedResult, 'flip'>;

const restated = (value: number | null, latencyMs: number | null) => (value !== null && latencyMs !== null ? `HTTP ${value} in ${latencyMs} ms` : undefined);

export function encodeMessage(result: Pick<ResultToStore, 'status' | 'value' | 'latencyMs' | 'message'>): string | null {
  return result.status === 'up' && result.message === restated(result.value, result.latencyMs) ? null : result.message;
}

type StoredRow = Pick<CheckResultsTable, 'at' | 'status' | 'latency_ms' | 'value' | 'message'>;

export function decodeRow(row: StoredRow, source = 'check'): HistoryEntry {
  const at = Number(row.at);
  const value = row.value === null ? null : Number(row.value);
  return {
    at,
    status: STATUSES[Number(row.status)] ?? 'down',
    latencyMs: row.latency_ms,
    value,
    message: row.message ?? restated(value, row.latency_ms) ?? null,
    source,
  };
}

/**
 * Stores one result in the caller's transaction; returns the time it was stored at: its own, or,
 * when the monitor already has a result in that millisecond (the table is keyed on (monitor, at)),
 * the first free millisecond after the newest result stored at or after it. A burst of pings in
 * one millisecond is thus stored as consecutive milliseconds, however long: never dropped, never
 * an error.
 */
export async function insertResult(trx: Db, result: ResultToStore): Promise<number> {
  const key = await ensureKey(trx, result.monitorId);
  const row = { monitor_key: key, status: STATUS_CODES[result.status], latency_ms: result.latencyMs, value: result.value, message: encodeMessage(result) };
  let at = result.at;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const inserted = await trx
      .insertInto('check_results')
      .values({ ...row, at })
      .onConflict((oc) => oc.columns(['monitor_key', 'at']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return at;
    const newest = await trx
      .selectFrom('check_results')
      .select((eb) => eb.fn.max('at').as('at'))
      .where('monitor_key', '=', key)
      .where('at', '>=', at)
      .executeTakeFirst();
    at = Number(newest?.at ?? at) + 1;
  }
  throw new Error(`could not find a free millisecond for a result of monitor ${result.monitorId} after ${MAX_ATTEMPTS} attempts`);
}

const COLUMNS = ['at', 'status', 'latency_ms', 'value', 'message'] as const;

/**
 * The core's results of a monitor as its history. `source` names what recorded them: `check` for
 * the checked kinds, `sweep` / `liveness` / `evaluation` where a passive kind's verdicts are merged in.
 */
export const checkResultsHistory = (source = 'check'): HistorySource => ({
  async latest(db, monitorId, { limit, before }) {
    const key = await keyOf(db, monitorId);
    if (key === undefined) return [];
    let query = db.selectFrom('check_results').select(COLUMNS).where('monitor_key', '=', key);
    if (before !== undefined) query = query.where('at', '<', before);
    return (await query.orderBy('at', 'desc').limit(limit).execute()).map((row) => decodeRow(row, source));
  },

  async between(db, monitorId, from, to) {
    const key = await keyOf(db, monitorId);
    if (key === undefined) return [];
    // One after the other: inside a transaction both run on one connection anyway.
    const [previous, rows] = [
      await db.selectFrom('check_results').select(COLUMNS).where('monitor_key', '=', key).where('at', '<', from).orderBy('at', 'desc').limit(1).executeTakeFirst(),
      await db.selectFrom('check_results').select(COLUMNS).where('monitor_key', '=', key).where('at', '>=', from).where('at', '<', to).orderBy('at').execute(),
    ];
    return [...(previous ? [previous] : []), ...rows].map((row) => decodeRow(row, source));
  },
});

/** The newest stored message of a monitor (reminders and self-monitoring quote it). */
export async function latestMessage(db: Db, monitorId: string): Promise<string | null | undefined> {
  const [entry] = await checkResultsHistory().latest(db, monitorId, { limit: 1 });
  return entry && entry.message;
}
