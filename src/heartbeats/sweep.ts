/**
 * The deadline sweep: checks whose `deadline_at` has come turn late (`grace`), and down once
 * `alert_after` has passed. Each move is a compare-and-set, in one transaction per batch with
 * the down result it records, so two workers never move the same check twice and a restart picks
 * up exactly what was due (the deadlines are stored, not timers in memory).
 *
 * The sweep finds checks by `sweep_at` (indexed), which is at or before `deadline_at`: a ping
 * that only postpones the deadline leaves `sweep_at` where it is (see `sweepStaysInTime`), so
 * that a check pinged every few seconds does not rewrite the index with each ping. When the sweep
 * comes to such a check before its deadline, it moves `sweep_at` on to it, and that is all.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { ResultRecorder } from '../monitors/results.service.js';
import { atDeadline, type HeartbeatState } from './schedule.js';

const SWEEP_BATCH = 500;

/**
 * Whether a check's `sweep_at` may stay as it is when its deadline becomes `deadlineAt`: when the
 * sweep will still look at it no later than that deadline. A check without a deadline has none.
 */
export function sweepStaysInTime(sweepAt: number | null, deadlineAt: number | null): boolean {
  return sweepAt !== null && deadlineAt !== null && sweepAt <= deadlineAt;
}

function lateReason(lastPingAt: number | null, lastStartAt: number | null): string {
  if (lastStartAt !== null) return 'started but did not finish within its grace time';
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
          .select(['monitor_id', 'status', 'alert_after', 'deadline_at', 'sweep_at', 'n_pings', 'last_ping_at', 'last_start_at'])
          .where('sweep_at', '<=', now)
          .orderBy('sweep_at')
          .limit(SWEEP_BATCH)
          .execute();
        if (due.length === 0) return moved;
        const result = await db.transaction().execute(async (trx) => {
          let count = 0;
          let alerted = false;
          for (const check of due) {
            // Compare-and-set: on sweep_at, which every move of the sweep changes, and on n_pings,
            // which every ping changes (a ping may leave sweep_at as it was). The ping path locks
            // the row from its read to its commit on PostgreSQL (ping-statements.ts), so this waits
            // for a ping under way and then loses to it.
            const unchanged = trx.updateTable('heartbeat_checks').where('monitor_id', '=', check.monitor_id).where('sweep_at', '=', check.sweep_at).where('n_pings', '=', check.n_pings);
            if (check.deadline_at !== null && check.deadline_at > now) {
              await unchanged.set({ sweep_at: check.deadline_at }).execute(); // early: look again at the deadline
              continue;
            }
            const next = atDeadline(check.status as HeartbeatState, check.alert_after, now) ?? { status: check.status as HeartbeatState, alertAfter: check.alert_after, deadlineAt: null };
            const won = await unchanged.set({ status: next.status, alert_after: next.alertAfter, deadline_at: next.deadlineAt, sweep_at: next.deadlineAt }).executeTakeFirst();
            if (won.numUpdatedRows === 0n) continue; // pinged or swept meanwhile
            count++;
            if (next.status === 'down') {
              const written = await recorder.recordWithin(trx, check.monitor_id, { status: 'down', message: lateReason(check.last_ping_at, check.last_start_at) }, now);
              alerted ||= written?.alerted ?? false;
            }
          }
          return { count, alerted, events: recorder.staged(trx) };
        });
        recorder.committed(result.events);
        if (result.alerted) recorder.alertWritten();
        moved += result.count;
        if (due.length < SWEEP_BATCH) return moved;
      }
    },
  };
}

export type HeartbeatSweep = ReturnType<typeof createHeartbeatSweep>;
