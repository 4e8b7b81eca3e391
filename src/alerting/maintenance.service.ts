/**
 * Maintenance windows: CRUD, which windows cover a monitor now (for the router), and the sweep
 * that moves monitors into the `maintenance` state when a window opens and back to `pending`
 * when it closes. In maintenance a monitor is not checked (its next_due_at is cleared), so
 * nothing it does counts as downtime, and entering it ends any open incident.
 */
import { randomUUID } from 'node:crypto';
import { isValidTimeZone } from '../auth/tenants.service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { MaintenanceWindowsTable } from '../db/tables/alerting.table.js';
import { definedOnly, NotFoundError, ValidationError, type FieldProblem } from '../errors.js';
import type { ResultRecorder } from '../monitors/results.service.js';
import { activeOccurrence, cronProblem, type MaintenanceSchedule } from './maintenance-schedule.js';

export interface MaintenanceWindow extends MaintenanceSchedule {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  monitorIds: string[];
  tags: string[];
  createdAt: number;
  updatedAt: number;
}

export type MaintenanceInput = Omit<MaintenanceWindow, 'id' | 'tenantId' | 'createdAt' | 'updatedAt' | 'timezone'> & { timezone: string | null };

const toWindow = (row: MaintenanceWindowsTable): MaintenanceWindow => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  description: row.description,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  cron: row.cron,
  durationSeconds: row.duration_seconds,
  timezone: row.timezone,
  monitorIds: JSON.parse(row.monitor_ids_json) as string[],
  tags: JSON.parse(row.tags_json) as string[],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toColumns = (w: MaintenanceWindow) => ({
  name: w.name,
  description: w.description,
  starts_at: w.startsAt,
  ends_at: w.endsAt,
  cron: w.cron,
  duration_seconds: w.durationSeconds,
  timezone: w.timezone,
  monitor_ids_json: JSON.stringify([...new Set(w.monitorIds)]),
  tags_json: JSON.stringify([...new Set(w.tags)]),
  updated_at: w.updatedAt,
});

/** Whether a window covers a monitor (by id or by one of its tags). */
export function windowCovers(window: Pick<MaintenanceWindow, 'monitorIds' | 'tags'>, monitorId: string, tags: readonly string[]): boolean {
  return window.monitorIds.includes(monitorId) || tags.some((tag) => window.tags.includes(tag));
}

/** The tenant's windows in force at `now`. */
export async function activeWindows(db: Db, tenantId: string, now: number): Promise<MaintenanceWindow[]> {
  const rows = await db.selectFrom('maintenance_windows').selectAll().where('tenant_id', '=', tenantId).execute();
  return rows.map(toWindow).filter((w) => activeOccurrence(w, now) !== null);
}

export interface MaintenanceServiceOptions {
  db: Db;
  clock: Clock;
  recorder: ResultRecorder;
}

export function createMaintenanceService({ db, clock, recorder }: MaintenanceServiceOptions) {
  const get = async (tenantId: string, windowId: string): Promise<MaintenanceWindow> => {
    const row = await db.selectFrom('maintenance_windows').selectAll().where('tenant_id', '=', tenantId).where('id', '=', windowId).executeTakeFirst();
    if (!row) throw new NotFoundError('Maintenance window');
    return toWindow(row);
  };

  /** Every rule the API schema cannot say alone; all problems at once. */
  async function check(tenantId: string, w: MaintenanceWindow): Promise<void> {
    const problems: FieldProblem[] = [];
    const at = (field: string, msg: string) => problems.push({ loc: ['body', field], msg, type: 'value_error' });
    if (!isValidTimeZone(w.timezone)) at('timezone', `Unknown time zone "${w.timezone}"; use an IANA name such as Europe/Paris or UTC`);
    if (w.cron === null) {
      if (w.startsAt === null) at('starts_at', 'A one-off window needs starts_at (or give cron and duration_seconds for a recurring one)');
      if (w.endsAt === null) at('ends_at', 'A one-off window needs ends_at');
      if (w.durationSeconds !== null) at('duration_seconds', 'duration_seconds goes with cron; a one-off window ends at ends_at');
    } else {
      const problem = isValidTimeZone(w.timezone) ? cronProblem(w.cron, w.timezone) : null;
      if (problem) at('cron', problem);
      if (w.durationSeconds === null) at('duration_seconds', 'A recurring window needs duration_seconds');
    }
    if (w.startsAt !== null && w.endsAt !== null && w.endsAt <= w.startsAt) at('ends_at', 'ends_at must be after starts_at');
    if (w.monitorIds.length === 0 && w.tags.length === 0) at('monitor_ids', 'Name the monitors in maintenance: monitor_ids, tags, or both');
    if (w.monitorIds.length) {
      const rows = await db.selectFrom('monitors').select('id').where('tenant_id', '=', tenantId).where('id', 'in', w.monitorIds).execute();
      const known = new Set(rows.map((r) => r.id));
      w.monitorIds.forEach((id, i) => {
        if (!known.has(id)) problems.push({ loc: ['body', 'monitor_ids', i], msg: `No monitor ${id} in this tenant`, type: 'value_error' });
      });
    }
    if (problems.length) throw new ValidationError(problems);
  }

  async function tenantTimeZone(tenantId: string): Promise<string> {
    const row = await db.selectFrom('tenant_settings').select('timezone').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    return row.timezone;
  }

  /** Monitor ids each active window holds, for the sweep: by id and by tag, within the window's tenant. */
  async function monitorsInMaintenance(now: number): Promise<Map<string, MaintenanceWindow>> {
    const rows = await db.selectFrom('maintenance_windows').selectAll().execute();
    const held = new Map<string, MaintenanceWindow>();
    for (const window of rows.map(toWindow).filter((w) => activeOccurrence(w, now) !== null)) {
      let query = db.selectFrom('monitors').select('id').where('tenant_id', '=', window.tenantId);
      query = query.where((eb) => {
        const byId = window.monitorIds.length ? [eb('id', 'in', window.monitorIds)] : [];
        const byTag = window.tags.length
          ? [eb.exists(eb.selectFrom('monitor_tags').select('tag').whereRef('monitor_tags.monitor_id', '=', 'monitors.id').where('monitor_tags.tag', 'in', window.tags))]
          : [];
        return eb.or([...byId, ...byTag]);
      });
      for (const { id } of await query.execute()) if (!held.has(id)) held.set(id, window);
    }
    return held;
  }

  return {
    get,

    async list(tenantId: string): Promise<MaintenanceWindow[]> {
      const rows = await db.selectFrom('maintenance_windows').selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('id').execute();
      return rows.map(toWindow);
    },

    async create(tenantId: string, input: MaintenanceInput): Promise<MaintenanceWindow> {
      const now = clock.now();
      const window: MaintenanceWindow = { ...input, timezone: input.timezone ?? (await tenantTimeZone(tenantId)), id: randomUUID(), tenantId, createdAt: now, updatedAt: now };
      await check(tenantId, window);
      await db
        .insertInto('maintenance_windows')
        .values({ id: window.id, tenant_id: tenantId, created_at: now, ...toColumns(window) })
        .execute();
      return window;
    },

    async update(tenantId: string, windowId: string, changes: Partial<MaintenanceInput>): Promise<MaintenanceWindow> {
      const current = await get(tenantId, windowId);
      const given = definedOnly(changes);
      const window: MaintenanceWindow = { ...current, ...given, timezone: given.timezone ?? current.timezone, updatedAt: clock.now() };
      await check(tenantId, window);
      await db.updateTable('maintenance_windows').set(toColumns(window)).where('tenant_id', '=', tenantId).where('id', '=', windowId).execute();
      return window;
    },

    async remove(tenantId: string, windowId: string): Promise<void> {
      const result = await db.deleteFrom('maintenance_windows').where('tenant_id', '=', tenantId).where('id', '=', windowId).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError('Maintenance window');
    },

    /**
     * Puts the monitors of open windows in maintenance and takes the others out. Safe to run from
     * several workers: each move is a conditional state change under the monitor's row lock.
     */
    async sweep(): Promise<{ entered: number; left: number }> {
      const now = clock.now();
      const held = await monitorsInMaintenance(now);
      let entered = 0;
      let left = 0;
      const ids = [...held.keys()];
      for (let i = 0; i < ids.length; i += 500) {
        const candidates = await db
          .selectFrom('monitors')
          .select('id')
          .where('id', 'in', ids.slice(i, i + 500))
          .where('is_active', '=', 1)
          .where('state', 'not in', ['maintenance', 'paused'])
          .execute();
        for (const { id } of candidates) {
          const flip = await recorder.setState(id, 'maintenance', `maintenance window "${held.get(id)?.name}"`, {
            nextDueAt: null,
            onlyFrom: (state) => state !== 'paused',
          });
          if (flip) entered++;
        }
      }
      const inMaintenance = await db.selectFrom('monitors').select(['id', 'interval_seconds']).where('state', '=', 'maintenance').execute();
      for (const monitor of inMaintenance) {
        if (held.has(monitor.id)) continue;
        const flip = await recorder.setState(monitor.id, 'pending', 'maintenance window ended', {
          nextDueAt: monitor.interval_seconds ? now : null,
          onlyFrom: (state) => state === 'maintenance',
        });
        if (flip) left++;
      }
      return { entered, left };
    },
  };
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
