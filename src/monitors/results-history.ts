/**
 * The core's own history: results recorded through the result recorder (checks, sweep verdicts,
 * liveness verdicts), as a HistorySource. Active kinds declare it as theirs; passive kinds merge
 * it with what they record themselves (pings, ingests).
 */
import type { Db } from '../db/database.js';
import type { HistoryEntry, HistorySource } from '../kinds/history.js';
import type { ResultStatus } from './kinds.js';

interface ResultRow {
  at: number;
  status: string;
  latency_ms: number | null;
  value: number | null;
  message: string | null;
}

const toEntry = (source: string) => (row: ResultRow): HistoryEntry => ({
  at: Number(row.at),
  status: row.status as ResultStatus,
  latencyMs: row.latency_ms,
  value: row.value,
  message: row.message,
  source,
});

/** `source` names what wrote the rows: `check` for active kinds, `sweep`/`liveness` for passive ones. */
export function checkResultsHistory(source = 'check'): HistorySource {
  const columns = ['at', 'status', 'latency_ms', 'value', 'message'] as const;
  return {
    async latest(db, monitorId, { limit, before }) {
      let query = db.selectFrom('check_results').select(columns).where('monitor_id', '=', monitorId);
      if (before !== undefined) query = query.where('at', '<', before);
      return (await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map(toEntry(source));
    },
    async between(db: Db, monitorId, from, to) {
      const [before, inside] = await Promise.all([
        db.selectFrom('check_results').select(columns).where('monitor_id', '=', monitorId).where('at', '<', from).orderBy('at', 'desc').limit(1).execute(),
        db.selectFrom('check_results').select(columns).where('monitor_id', '=', monitorId).where('at', '>=', from).where('at', '<', to).orderBy('at').orderBy('id').execute(),
      ]);
      return [...before, ...inside].map(toEntry(source));
    },
  };
}
