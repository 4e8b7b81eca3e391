/**
 * Repeat: while an incident stays open, a reminder event every `repeat_interval` (the monitor's,
 * else the tenant's; 0 turns reminders off). The sweep reads open incidents (few, and indexed),
 * and moves each due one's `last_reminder_at` by compare-and-set in the transaction that writes
 * its reminder, so two workers never queue the same reminder.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { latestMessage } from '../monitors/results-history.js';
import { severityOf } from './events.js';

export function createReminders({ db, clock }: { db: Db; clock: Clock }) {
  return {
    /** Queues the reminders that are due; returns how many. */
    async queueDue(): Promise<number> {
      const now = clock.now();
      const open = await db
        .selectFrom('incidents')
        .innerJoin('monitors', 'monitors.id', 'incidents.monitor_id')
        .innerJoin('tenant_settings', 'tenant_settings.tenant_id', 'incidents.tenant_id')
        .select([
          'incidents.id',
          'incidents.tenant_id',
          'incidents.monitor_id',
          'incidents.severity',
          'incidents.opened_at',
          'incidents.last_reminder_at',
          'monitors.state',
          'monitors.repeat_interval_seconds as monitor_repeat',
          'tenant_settings.repeat_interval_seconds as tenant_repeat',
        ])
        .where('incidents.state', '=', 'open')
        .execute();
      const due = open.filter((i) => {
        const repeatSeconds = i.monitor_repeat ?? i.tenant_repeat;
        return repeatSeconds > 0 && (i.last_reminder_at ?? i.opened_at) + repeatSeconds * 1000 <= now;
      });
      if (due.length === 0) return 0;
      return db.transaction().execute(async (trx) => {
        let queued = 0;
        for (const incident of due) {
          const moved = await trx
            .updateTable('incidents')
            .set({ last_reminder_at: now })
            .where('id', '=', incident.id)
            .where('state', '=', 'open')
            .where((eb) => (incident.last_reminder_at === null ? eb('last_reminder_at', 'is', null) : eb('last_reminder_at', '=', incident.last_reminder_at)))
            .executeTakeFirst();
          if (moved.numUpdatedRows === 0n) continue; // resolved, or reminded by another worker
          const reason = await latestMessage(trx, incident.monitor_id);
          await trx
            .insertInto('alert_events')
            .values({
              id: randomUUID(),
              tenant_id: incident.tenant_id,
              monitor_id: incident.monitor_id,
              kind: 'reminder',
              flip_id: null,
              incident_id: incident.id,
              from_state: incident.state,
              to_state: incident.state,
              severity: severityOf(incident.severity),
              reason: reason ?? null,
              down_for_ms: now - incident.opened_at,
              at: now,
              routed_at: null,
              suppressed_by: null,
            })
            .execute();
          queued++;
        }
        return queued;
      });
    },
  };
}

export type Reminders = ReturnType<typeof createReminders>;
