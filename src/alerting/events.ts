/**
 * Alert events: which flips are worth telling someone about, and the row that says so. The row
 * is written in the flip's own transaction, so a flip committed is an alert the router will see,
 * even if the process dies the next instant.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Flip, FlipIncident } from '../monitors/flips.js';
import { isFailing, type MonitorState } from '../monitors/kinds.js';

export const ALERT_EVENT_KINDS = ['alert', 'reminder'] as const;
export type AlertEventKind = (typeof ALERT_EVENT_KINDS)[number];

/** The levels a channel filters on (seed 004's alert levels). */
export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Every flip into or out of a failure: a monitor starting to fail, changing level, recovering,
 * or being paused or put in maintenance while failing (that ends its incident, so PagerDuty and
 * the like must hear it resolve). Not: a first success, pausing a healthy monitor, resuming.
 */
export function isNotifiable(fromState: MonitorState, toState: MonitorState): boolean {
  return isFailing(toState) || isFailing(fromState);
}

/** True for events that end a failure (recovery, pause, maintenance) rather than report one. */
export function endsFailure(toState: string): boolean {
  return !isFailing(toState);
}

export function severityOf(failingState: string): Severity {
  return failingState === 'warning' ? 'warning' : 'critical';
}

/**
 * Writes the alert event of a flip, if it is notifiable; returns whether it wrote one. It is the
 * flip module's listener (a FlipListener), called inside the flip's transaction.
 */
export async function recordFlipEvent(trx: Db, flip: Flip, incident: FlipIncident): Promise<boolean> {
  if (!isNotifiable(flip.fromState, flip.toState)) return false;
  const failingState = isFailing(flip.toState) ? flip.toState : (incident.severityState ?? flip.fromState);
  await trx
    .insertInto('alert_events')
    .values({
      id: randomUUID(),
      tenant_id: flip.tenantId,
      monitor_id: flip.monitorId,
      kind: 'alert',
      flip_id: flip.id,
      incident_id: incident.id,
      from_state: flip.fromState,
      to_state: flip.toState,
      severity: severityOf(failingState),
      reason: flip.reason,
      down_for_ms: incident.downForMs,
      at: flip.at,
      routed_at: null,
      suppressed_by: null,
    })
    .execute();
  return true;
}
