/**
 * MISSING: a job whose run has not come by its expected time plus grace. The sweep reads jobs by
 * `missing_at` (indexed), takes each with a compare-and-set on that deadline, writes a `missed`
 * run and records it as the monitor's result (down) in one transaction; the verdict moves the
 * deadline on to the next expected run, so a job alerts once per missed slot.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import { toJobSettings } from './jobs.repository.js';
import { toRun } from './runs.repository.js';
import { judgeRun } from './verdicts.js';

const BATCH = 200;

export function createMissingSweep({ db, clock, recorder }: { db: Db; clock: Clock; recorder: ResultRecorder }) {
  return {
    async run(): Promise<number> {
      const now = clock.now();
      const due = await db.selectFrom('backup_jobs').selectAll().where('missing_at', '<=', now).orderBy('missing_at').limit(BATCH).execute();
      let missed = 0;
      for (const row of due) {
        const job = toJobSettings(row);
        const alerted = await db.transaction().execute(async (trx) => {
          const taken = await trx.updateTable('backup_jobs').set({ missing_at: null }).where('monitor_id', '=', job.monitorId).where('missing_at', '=', row.missing_at).executeTakeFirst();
          if (taken.numUpdatedRows === 0n) return null; // a run came, or another sweep took it
          const expectedAt = job.expectedAt ?? now;
          const inserted = {
            id: randomUUID(),
            monitor_id: job.monitorId,
            tenant_id: job.tenantId,
            run_id: `missing-${expectedAt}`,
            state: 'missed',
            status: null,
            reason: null,
            agent_status: null,
            agent_message: null,
            log_tail: null,
            started_at: null,
            finished_at: null,
            file_count: 0,
            expected_size: null,
            expected_sha256: null,
            files_json: '[]',
            received_at: now,
            claim_token: null,
            claim_owner: null,
            claim_expires_at: null,
            size_accepted_at: null,
            cleaned_at: now,
            pruned_at: null,
            judged_at: null,
            result_status: null,
            validated_at: null,
            promoted_at: null,
            validation_ms: null,
            promotion_ms: null,
            measured_size: null,
            measured_sha256: null,
          };
          await trx.insertInto('backup_runs').values(inserted).execute();
          const reason = `no backup by ${new Date(expectedAt).toISOString()} plus ${job.graceSeconds} s of grace`;
          return judgeRun(trx, recorder, {
            run: toRun(inserted),
            job,
            verdict: { status: 'MISSING', reason, measuredSize: null, measuredSha256: null },
            from: 'missed',
            to: 'missed',
            claimToken: null,
            now,
          });
        });
        recorder.committed(alerted?.events);
        if (alerted) missed++;
        if (alerted?.alerted) recorder.alertWritten();
      }
      return missed;
    },
  };
}

export type MissingSweep = ReturnType<typeof createMissingSweep>;
