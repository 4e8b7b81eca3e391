/**
 * The deadline sweep: checks whose `deadline_at` has come turn late (`grace`), and down once
 * `alert_after` has passed. Each move is a compare-and-set on `deadline_at`, in one transaction
 * per batch with the down result it records, so two workers never move the same check twice and
 * a restart picks up exactly what was due (the deadlines are stored, not timers in memory).
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { ResultRecorder } from '../monitors/results.service.js';
import { atDeadline, type HeartbeatState } from './schedule.js';

const SWEEP_BATCH = 500;

function lateReason(lastPingAt: number | null, status: string): string {
  if (status === 'started') return 'started but did not finish within its grace time';
  return lastPingAt === null ? 'no ping received' : `no ping since ${new Date(lastPingAt).toISOString()}`;
}

export function createHeartbeatSweep({ db, clock, recorder }: { db: Db; clock: Clock; recorder: ResultRecorder }) {
  return {
    /** Moves every check whose deadline has come; returns how many moved. */
    async run(): Promise<number> {
      let moved = 0;
      for (;;) {
        const now = clock.now();
        const due = await db
          .selectFrom('heartbeat_checks')
          .select(['monitor_id', 'status', 'alert_after', 'deadline_at', 'last_ping_at'])
          .where('deadline_at', '<=', now)
          .orderBy('deadline_at')
          .limit(SWEEP_BATCH)
          .execute();
        if (due.length === 0) return moved;
        const result = await db.transaction().execute(async (trx) => {
          let count = 0;
          let alerted = false;
          for (const check of due) {
            const next = atDeadline(check.status as HeartbeatState, check.alert_after, now) ?? { status: check.status as HeartbeatState, alertAfter: check.alert_after, deadlineAt: null };
            const won = await trx
              .updateTable('heartbeat_checks')
              .set({ status: next.status, alert_after: next.alertAfter, deadline_at: next.deadlineAt })
              .where('monitor_id', '=', check.monitor_id)
              .where('deadline_at', '=', check.deadline_at)
              .executeTakeFirst();
            if (won.numUpdatedRows === 0n) continue; // pinged or swept meanwhile
            count++;
            if (next.status === 'down') {
              const written = await recorder.recordWithin(trx, check.monitor_id, { status: 'down', message: lateReason(check.last_ping_at, check.status) }, now);
              alerted ||= written?.alerted ?? false;
            }
          }
          return { count, alerted };
        });
        if (result.alerted) recorder.alertWritten();
        moved += result.count;
        if (due.length < SWEEP_BATCH) return moved;
      }
    },
  };
}

export type HeartbeatSweep = ReturnType<typeof createHeartbeatSweep>;
