/**
 * Machine liveness (seed 000's heartbeat job): a machine from which nothing has arrived for its
 * tenant's `heartbeat_threshold_minutes` goes down, through the monitor core, so the flip, the
 * incident and the notifications are those of any monitor. The next ingest brings it back up
 * (ingest/write-batch.ts).
 *
 * Everything it needs is stored (last_seen_at, the monitor's state, the tenant's threshold), so
 * a restart changes nothing and a second sweep finds nothing more to do: a machine already down
 * is not looked at again, and one paused or in maintenance is skipped. A machine that was
 * resumed (pending) gets the threshold from its resume before it can go down.
 *
 * The move is a compare-and-set on last_seen_at, in the transaction that records the result: a
 * batch committed since the machine was picked wins, and on PostgreSQL the row write also makes
 * an ingest that runs at the same moment wait, then see the monitor down and bring it up.
 */
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { ResultRecorder } from '../monitors/results.service.js';
import { MINUTE_MS } from './buckets.js';

const SWEEP_BATCH = 500;
/** States in which silence means nothing: already down, or nobody watching. */
const NOT_SWEPT = ['down', 'paused', 'maintenance'];

export function silenceMessage(silentMs: number): string {
  const minutes = Math.floor(silentMs / MINUTE_MS);
  return `no metrics for ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function createMachineLiveness({ db, clock, recorder }: { db: Db; clock: Clock; recorder: ResultRecorder }) {
  /** Machines silent for longer than their tenant's threshold, oldest first. */
  function silent(now: number) {
    const thresholdMs = sql<number>`tenant_settings.heartbeat_threshold_minutes * ${sql.lit(MINUTE_MS)}`;
    return db
      .selectFrom('machines')
      .innerJoin('monitors', 'monitors.id', 'machines.monitor_id')
      .innerJoin('tenant_settings', 'tenant_settings.tenant_id', 'machines.tenant_id')
      .select(['machines.monitor_id', 'machines.last_seen_at'])
      .where('monitors.is_active', '=', 1)
      .where('monitors.state', 'not in', NOT_SWEPT)
      .where(sql<boolean>`machines.last_seen_at + ${thresholdMs} < ${now}`)
      .where(sql<boolean>`coalesce(monitors.state_changed_at, 0) + ${thresholdMs} < ${now}`)
      .orderBy('machines.last_seen_at')
      .limit(SWEEP_BATCH)
      .execute();
  }

  return {
    /** Records `down` for every machine silent past its threshold; returns how many. */
    async run(): Promise<number> {
      let moved = 0;
      for (;;) {
        const now = clock.now();
        const due = await silent(now);
        if (due.length === 0) return moved;
        const result = await db.transaction().execute(async (trx) => {
          let count = 0;
          let alerted = false;
          for (const machine of due) {
            // Still silent, still watched: nothing arrived and nobody paused it since it was picked.
            const still = await trx
              .updateTable('machines')
              .set({ last_seen_at: machine.last_seen_at })
              .where('monitor_id', '=', machine.monitor_id)
              .where('last_seen_at', '=', machine.last_seen_at)
              .where((eb) =>
                eb.exists(
                  eb.selectFrom('monitors').select('monitors.id').where('monitors.id', '=', machine.monitor_id).where('monitors.is_active', '=', 1).where('monitors.state', 'not in', NOT_SWEPT),
                ),
              )
              .executeTakeFirst();
            if (still.numUpdatedRows === 0n) continue;
            const written = await recorder.recordWithin(trx, machine.monitor_id, { status: 'down', message: silenceMessage(now - machine.last_seen_at) }, now);
            if (written?.recorded.flip) count++;
            alerted ||= written?.alerted ?? false;
          }
          return { count, alerted, events: recorder.staged(trx) };
        });
        recorder.committed(result.events);
        if (result.alerted) recorder.alertWritten();
        moved += result.count;
        // A full batch where every machine went down: there may be more. Otherwise the next sweep goes on.
        if (due.length < SWEEP_BATCH || result.count < due.length) return moved;
      }
    },
  };
}

export type MachineLiveness = ReturnType<typeof createMachineLiveness>;
