/**
 * A machine's history is its ingested batches (each one says the machine is alive), kept as long
 * as their ingest ids (METRICS_INGEST_ID_TTL_HOURS); the liveness sweep's verdicts (silent past
 * the tenant's threshold) are merged in from the core's results (kinds/history.ts).
 */
import type { Db } from '../../db/database.js';
import type { HistoryEntry, HistorySource } from '../history.js';

const toEntry = (row: { received_at: number }): HistoryEntry => ({ at: Number(row.received_at), status: 'up', latencyMs: null, value: null, message: 'metrics received', source: 'ingest' });

const batchesOf = (db: Db, machineId: string) => db.selectFrom('ingest_batches').select('received_at').where('machine_id', '=', machineId);

export const ingestHistory: HistorySource = {
  async latest(db, machineId, { limit, before }) {
    let query = batchesOf(db, machineId);
    if (before !== undefined) query = query.where('received_at', '<', before);
    return (await query.orderBy('received_at', 'desc').limit(limit).execute()).map(toEntry);
  },
  async between(db, machineId, from, to) {
    const [before, inside] = await Promise.all([
      batchesOf(db, machineId).where('received_at', '<', from).orderBy('received_at', 'desc').limit(1).execute(),
      batchesOf(db, machineId).where('received_at', '>=', from).where('received_at', '<', to).orderBy('received_at').execute(),
    ]);
    return [...before, ...inside].map(toEntry);
  },
};
