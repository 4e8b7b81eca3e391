/**
 * The write side of incidents: what a flip does to its monitor's incident, inside the flip's
 * transaction. A flip into a failing state opens an incident, or escalates (or de-escalates) the
 * open one; any other flip resolves the open one. The read side (list, acknowledge) is
 * incidents.service.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isFailing } from './kinds.js';

/** The monitor's incident as a flip left it, for whoever writes the flip's alert event. */
export interface FlipIncident {
  /** The incident opened, escalated or resolved; null when the flip touched none (e.g. pending → up). */
  id: string | null;
  /** The incident's severity state (`down` or `warning`) before this flip, for recoveries. */
  severityState: string | null;
  /** Set when the flip resolved the incident: how long it was open. */
  downForMs: number | null;
}

/** What the incident write needs of a flip (flips.ts's Flip has it; named here so flips.ts alone imports the other). */
export interface IncidentFlip {
  id: string;
  tenantId: string;
  monitorId: string;
  toState: string;
  at: number;
  reason: string | null;
}

/** Applies a flip, whose row is already written, to its monitor's incident. */
export async function applyFlipToIncident(trx: Db, flip: IncidentFlip): Promise<FlipIncident> {
  const open = await trx.selectFrom('incidents').select(['id', 'severity', 'opened_at']).where('monitor_id', '=', flip.monitorId).where('state', '=', 'open').executeTakeFirst();
  const incident: FlipIncident = { id: open?.id ?? null, severityState: open?.severity ?? null, downForMs: null };
  if (isFailing(flip.toState)) {
    if (open) {
      // Warning ↔ down within the incident notifies by itself: the next reminder counts from it.
      await trx.updateTable('incidents').set({ severity: flip.toState, last_reminder_at: flip.at }).where('id', '=', open.id).execute();
    } else {
      incident.id = randomUUID();
      await trx
        .insertInto('incidents')
        .values({
          id: incident.id,
          tenant_id: flip.tenantId,
          monitor_id: flip.monitorId,
          severity: flip.toState,
          state: 'open',
          reason: flip.reason,
          opened_at: flip.at,
          opened_by_flip_id: flip.id,
          resolved_at: null,
          resolved_by_flip_id: null,
          acknowledged_at: null,
          acknowledged_by: null,
          last_reminder_at: null,
        })
        .execute();
    }
  } else if (open) {
    // Recovering, pausing and maintenance all end the incident: a paused monitor alerts no one,
    // and its next failure after a resume is a new incident, not the continuation of an old one.
    await trx.updateTable('incidents').set({ state: 'resolved', resolved_at: flip.at, resolved_by_flip_id: flip.id }).where('id', '=', open.id).execute();
    incident.downForMs = flip.at - open.opened_at;
  }
  return incident;
}
