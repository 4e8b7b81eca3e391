/**
 * A heartbeat's history is its pings: a success ping is up, a fail ping or a non-zero exit
 * status is down; `start` and `log` pings say nothing of health and are left out. The sweep's
 * verdicts (a ping that did not come) are merged in from the core's results (kinds/history.ts).
 */
import type { Db } from '../../db/database.js';
import type { HistoryEntry, HistorySource } from '../history.js';

const HEALTH_KINDS = ['success', 'fail', 'exit'];

interface PingRow {
  at: number;
  kind: string;
  exit_status: number | null;
  duration_ms: number | null;
}

function toEntry(row: PingRow): HistoryEntry {
  const failed = row.kind === 'fail' || (row.kind === 'exit' && row.exit_status !== 0);
  const message = row.kind === 'exit' ? `exited with status ${row.exit_status}` : failed ? 'reported a failure' : 'ping received';
  return { at: Number(row.at), status: failed ? 'down' : 'up', latencyMs: row.duration_ms, value: null, message, source: 'ping' };
}

const pingsOf = (db: Db, monitorId: string) => db.selectFrom('pings').select(['at', 'kind', 'exit_status', 'duration_ms']).where('monitor_id', '=', monitorId).where('kind', 'in', HEALTH_KINDS);

export const pingHistory: HistorySource = {
  async latest(db, monitorId, { limit, before }) {
    let query = pingsOf(db, monitorId);
    if (before !== undefined) query = query.where('at', '<', before);
    return (await query.orderBy('n', 'desc').limit(limit).execute()).map(toEntry);
  },
  async between(db, monitorId, from, to) {
    const [before, inside] = await Promise.all([
      pingsOf(db, monitorId).where('at', '<', from).orderBy('n', 'desc').limit(1).execute(),
      pingsOf(db, monitorId).where('at', '>=', from).where('at', '<', to).orderBy('n').execute(),
    ]);
    return [...before, ...inside].map(toEntry);
  },
};
