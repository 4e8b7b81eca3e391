/**
 * The one way a kind creates a monitor: the monitor row, its tags and the kind's settings row
 * (keyed by the monitor's id, with its tenant), in the caller's transaction, so a monitor never
 * exists without its settings. Kinds give what differs: thresholds, schedule, the settings row.
 */
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { SettingsTable } from '../kinds/contract.js';
import type { MonitorKind } from './kinds.js';
import { insertMonitor } from './monitors.repository.js';

export interface MonitorFields {
  /** Given when the caller needs the id before the row exists; a new UUID otherwise. */
  id?: string;
  tenantId: string;
  kind: MonitorKind;
  name: string;
  tags?: readonly string[];
  isActive?: boolean;
  /** Null: the tenant's consecutive_failures_threshold applies. */
  failureThreshold?: number | null;
  recoveryThreshold?: number;
  /** Active kinds: seconds between checks. Passive kinds: null. */
  intervalSeconds?: number | null;
  /** When an active kind's first check runs (now, usually). */
  nextDueAt?: number | null;
  now: number;
}

type SettingsRow<T extends SettingsTable> = Omit<Insertable<Database[T]>, 'monitor_id' | 'tenant_id'>;

export async function createMonitorWithSettings<T extends SettingsTable>(trx: Db, fields: MonitorFields, table: T, settings: SettingsRow<T>): Promise<string> {
  const id = fields.id ?? randomUUID();
  await insertMonitor(trx, {
    id,
    tenantId: fields.tenantId,
    kind: fields.kind,
    name: fields.name,
    tags: [...(fields.tags ?? [])],
    isActive: fields.isActive ?? true,
    failureThreshold: fields.failureThreshold ?? null,
    recoveryThreshold: fields.recoveryThreshold ?? 1,
    intervalSeconds: fields.intervalSeconds ?? null,
    nextDueAt: fields.nextDueAt ?? null,
    now: fields.now,
  });
  // The settings row's type is checked at the call site; Kysely cannot follow a table name given as a type parameter.
  await trx
    .insertInto(table)
    .values({ ...settings, monitor_id: id, tenant_id: fields.tenantId } as never)
    .execute();
  return id;
}
