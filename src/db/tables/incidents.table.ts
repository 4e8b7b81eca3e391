/** A change of a monitor's state, written once by whoever wins the compare-and-set. */
export interface MonitorFlipsTable {
  id: string;
  tenant_id: string;
  monitor_id: string;
  from_state: string;
  to_state: string;
  at: number;
  reason: string | null;
}

/** Opened by a flip to down/warning, resolved by the flip back up (the seeds' "alert event"). */
export interface IncidentsTable {
  id: string;
  tenant_id: string;
  monitor_id: string;
  severity: string;
  state: string;
  reason: string | null;
  opened_at: number;
  opened_by_flip_id: string;
  resolved_at: number | null;
  resolved_by_flip_id: string | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  /** When the last reminder was queued; the reminder sweep's compare-and-set. */
  last_reminder_at: number | null;
}
