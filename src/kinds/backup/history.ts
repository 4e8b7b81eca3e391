/**
 * A backup job's history is its judged runs: each verdict at the time it became the monitor's
 * result (SUCCESS up; UNCHANGED up or warning; SIZE_ANOMALY warning; the rest down). Results
 * recorded otherwise for the monitor are merged in from the core's results (kind.ts).
 */
import type { Db } from '../../db/database.js';
import type { ResultStatus } from '../../monitors/kinds.js';
import type { HistoryEntry, HistorySource } from '../history.js';

interface RunRow {
  judged_at: number | null;
  result_status: string | null;
  status: string | null;
  reason: string | null;
  run_id: string;
  measured_size: number | null;
}

const toEntry = (row: RunRow): HistoryEntry => ({
  at: Number(row.judged_at),
  status: row.result_status as ResultStatus,
  latencyMs: null,
  value: row.measured_size === null ? null : Number(row.measured_size),
  message: `run ${row.run_id}: ${row.status ?? ''}${row.reason ? ` — ${row.reason}` : ''}`,
  source: 'run',
});

const runsOf = (db: Db, jobId: string) =>
  db.selectFrom('backup_runs').select(['judged_at', 'result_status', 'status', 'reason', 'run_id', 'measured_size']).where('monitor_id', '=', jobId).where('judged_at', 'is not', null);

export const runHistory: HistorySource = {
  async latest(db, jobId, { limit, before }) {
    let query = runsOf(db, jobId);
    if (before !== undefined) query = query.where('judged_at', '<', before);
    return (await query.orderBy('judged_at', 'desc').limit(limit).execute()).map(toEntry);
  },
  async between(db, jobId, from, to) {
    const [before, inside] = await Promise.all([
      runsOf(db, jobId).where('judged_at', '<', from).orderBy('judged_at', 'desc').limit(1).execute(),
      runsOf(db, jobId).where('judged_at', '>=', from).where('judged_at', '<', to).orderBy('judged_at').execute(),
    ]);
    return [...before, ...inside].map(toEntry);
  },
};
