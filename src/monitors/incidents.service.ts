import type { Clock } from '../clock.js';
import { incidentAcknowledgedEvent } from '../realtime/events.js';
import { silentHub, type Hub } from '../realtime/hub.js';
import type { Db } from '../db/database.js';
import type { IncidentsTable } from '../db/tables/incidents.table.js';
import { NotFoundError } from '../errors.js';
import type { IncidentState, MonitorKind } from './kinds.js';

export interface Incident {
  id: string;
  tenantId: string;
  monitorId: string;
  monitorName: string;
  monitorKind: MonitorKind;
  severity: string;
  state: IncidentState;
  reason: string | null;
  openedAt: number;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface IncidentFilters {
  state?: IncidentState;
  monitorId?: string;
  kind?: MonitorKind;
  since?: number;
  limit: number;
  offset: number;
}

type Row = IncidentsTable & { monitor_name: string; monitor_kind: string };

const toIncident = (row: Row): Incident => ({
  id: row.id,
  tenantId: row.tenant_id,
  monitorId: row.monitor_id,
  monitorName: row.monitor_name,
  monitorKind: row.monitor_kind as MonitorKind,
  severity: row.severity,
  state: row.state as IncidentState,
  reason: row.reason,
  openedAt: row.opened_at,
  resolvedAt: row.resolved_at,
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
});

export function createIncidentsService({ db, clock, hub = silentHub }: { db: Db; clock: Clock; hub?: Hub }) {
  const base = (tenantId: string) =>
    db
      .selectFrom('incidents')
      .innerJoin('monitors', 'monitors.id', 'incidents.monitor_id')
      .selectAll('incidents')
      .select(['monitors.name as monitor_name', 'monitors.kind as monitor_kind'])
      .where('incidents.tenant_id', '=', tenantId);

  const get = async (tenantId: string, incidentId: string): Promise<Incident> => {
    const row = await base(tenantId).where('incidents.id', '=', incidentId).executeTakeFirst();
    if (!row) throw new NotFoundError('Incident');
    return toIncident(row);
  };

  return {
    get,

    async list(tenantId: string, filters: IncidentFilters): Promise<Incident[]> {
      let query = base(tenantId);
      if (filters.state) query = query.where('incidents.state', '=', filters.state);
      if (filters.monitorId) query = query.where('incidents.monitor_id', '=', filters.monitorId);
      if (filters.kind) query = query.where('monitors.kind', '=', filters.kind);
      if (filters.since !== undefined) query = query.where('incidents.opened_at', '>=', filters.since);
      const rows = await query.orderBy('incidents.opened_at', 'desc').orderBy('incidents.id').limit(filters.limit).offset(filters.offset).execute();
      return rows.map(toIncident);
    },

    /** Marks the incident acknowledged by the caller; acknowledging twice keeps the first. */
    async acknowledge(tenantId: string, incidentId: string, by: string): Promise<Incident> {
      await get(tenantId, incidentId);
      const acknowledged = await db
        .updateTable('incidents')
        .set({ acknowledged_at: clock.now(), acknowledged_by: by })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', incidentId)
        .where('acknowledged_at', 'is', null)
        .executeTakeFirst();
      const incident = await get(tenantId, incidentId);
      if (acknowledged.numUpdatedRows > 0n) hub.publish(incidentAcknowledgedEvent(tenantId, incident));
      return incident;
    },
  };
}

export type IncidentsService = ReturnType<typeof createIncidentsService>;
