/**
 * Flips: a change of a monitor's state, written once, with everything that must commit with it.
 * One flip write moves the monitor's state with a compare-and-set on the state it leaves, writes
 * the flip row, opens, escalates or resolves the incident, and hands the flip to a listener in
 * the same transaction. The listener is how alerting writes its alert event (the transactional
 * outbox: a flip committed is an alert the router will see, even if the process dies the next
 * instant) without the monitor core knowing about alerting: alerting imports this module, never
 * the reverse.
 */
import type { Db } from '../db/database.js';
import { applyFlipToIncident, type FlipIncident } from './incidents.js';
import type { MonitorState } from './kinds.js';

export type { FlipIncident } from './incidents.js';

export interface Flip {
  id: string;
  tenantId: string;
  monitorId: string;
  fromState: MonitorState;
  toState: MonitorState;
  at: number;
  reason: string | null;
}

/**
 * Told of each flip inside its transaction, after the flip row and the incident are written.
 * Returns whether it wrote something the alert router must be woken for. Throwing rolls the
 * whole flip back (state, flip row, incident).
 */
export type FlipListener = (trx: Db, flip: Flip, incident: FlipIncident) => Promise<boolean>;

/** The monitor was not in the flip's from-state: someone else moved it; the caller retries or gives up. */
export class FlipConflict extends Error {
  constructor(flip: Flip) {
    super(`monitor ${flip.monitorId} is no longer ${flip.fromState}`);
    this.name = 'FlipConflict';
  }
}

export interface FlipWriterOptions {
  /** Required, so that a service graph cannot be built that drops alert events. */
  onFlipWritten: FlipListener;
}

export function createFlipWriter({ onFlipWritten }: FlipWriterOptions) {
  return {
    /**
     * Writes a flip inside the caller's transaction; returns what the listener returned. The
     * caller normally holds the monitor's row already (results.service locks it first), so the
     * compare-and-set is a guard: it turns a caller's mistake into a FlipConflict instead of a
     * flip row that names the wrong previous state.
     */
    async write(trx: Db, flip: Flip): Promise<boolean> {
      const moved = await trx.updateTable('monitors').set({ state: flip.toState, state_changed_at: flip.at }).where('id', '=', flip.monitorId).where('state', '=', flip.fromState).executeTakeFirst();
      if (moved.numUpdatedRows === 0n) throw new FlipConflict(flip);
      await trx
        .insertInto('monitor_flips')
        .values({ id: flip.id, tenant_id: flip.tenantId, monitor_id: flip.monitorId, from_state: flip.fromState, to_state: flip.toState, at: flip.at, reason: flip.reason })
        .execute();
      const incident = await applyFlipToIncident(trx, flip);
      return onFlipWritten(trx, flip, incident);
    },
  };
}

export type FlipWriter = ReturnType<typeof createFlipWriter>;
