/**
 * "Accept this size": a SIZE_ANOMALY that is in fact the database's new normal (a purge, a new
 * table) becomes the job's size baseline. The job's latest run must be that anomaly; its size is
 * stored on the job with the time, so the size check's median (scanner.ts, sizesToCompare) starts
 * from it and ignores the healthy runs before it; the run is marked accepted for its history, and
 * the monitor gets an `up` result, which ends its warning through the core like any recovery. The
 * anomaly's files stay in the quarantine (the copy kept is the last promoted one); the next run of
 * that size is promoted.
 */
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { ConflictError } from '../../errors.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import { updateBackupJob } from './jobs.repository.js';

export async function acceptLatestSize({ db, clock, recorder }: { db: Db; clock: Clock; recorder: ResultRecorder }, tenantId: string, jobId: string): Promise<void> {
  const now = clock.now();
  const written = await db.transaction().execute(async (trx) => {
    // The latest judged run that arrived (a MISSING slot has no size to accept).
    const latest = await trx
      .selectFrom('backup_runs')
      .select(['id', 'run_id', 'status', 'measured_size', 'size_accepted_at'])
      .where('tenant_id', '=', tenantId)
      .where('monitor_id', '=', jobId)
      .where('judged_at', 'is not', null)
      .where('state', '!=', 'missed')
      .orderBy('judged_at', 'desc')
      .orderBy('received_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!latest || latest.status !== 'SIZE_ANOMALY' || latest.measured_size === null) {
      throw new ConflictError(`The latest run of this job is ${latest ? `${latest.run_id} (${latest.status})` : 'none'}, not a SIZE_ANOMALY: there is no size to accept`);
    }
    const size = Number(latest.measured_size);
    const marked = await trx.updateTable('backup_runs').set({ size_accepted_at: now }).where('id', '=', latest.id).where('size_accepted_at', 'is', null).executeTakeFirst();
    if (marked.numUpdatedRows === 0n) throw new ConflictError(`The size of run ${latest.run_id} was already accepted`);
    await updateBackupJob(trx, tenantId, jobId, { sizeBaselineBytes: size, sizeBaselineAt: now });
    const monitor = await trx.selectFrom('monitors').select('is_active').where('tenant_id', '=', tenantId).where('id', '=', jobId).executeTakeFirst();
    if (monitor?.is_active !== 1) return undefined; // paused: no result, it resumes pending
    const result = await recorder.recordWithin(trx, jobId, { status: 'up', message: `run ${latest.run_id}: size ${size} bytes accepted as the new baseline`, value: size }, now);
    return { alerted: result?.alerted ?? false, events: recorder.staged(trx) };
  });
  recorder.committed(written?.events);
  if (written?.alerted) recorder.alertWritten();
}
