/**
 * The alert router: turns alert events into outbox rows, never sending anything itself. It
 * claims unrouted events (the claim and the rows it writes commit together, so a crash loses
 * nothing and routes nothing twice), drops those a silence or maintenance window covers, picks
 * each event's channels (the monitor's own list or every channel of the tenant, then the
 * channels' severity, tag and send_resolved filters), and queues one message per event and
 * channel — or, with grouping on, adds the event to the channel's open group (Alertmanager's
 * group_wait and group_interval).
 *
 * A recovery goes only to the channels that were told of the incident it ends (as Alertmanager
 * resolves only what it notified): not to a channel added since, nor after a failure that a
 * silence or maintenance window held back, nor to a channel whose filters skipped the failure.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { dialectOf, inTransaction, type Db } from '../db/database.js';
import type { AlertEventsTable } from '../db/tables/alerting.table.js';
import { idempotencyKey } from '../notify/provider.js';
import { listChannels, type Channel } from './channels.repository.js';
import { endsFailure } from './events.js';
import { activeWindows, windowCovers, type MaintenanceWindow } from './maintenance.service.js';
import { allMatch, type MatchTarget } from './matchers.js';
import { activeSilences, type Silence } from './silences.service.js';

/** Events routed per transaction: one commit for many events. */
export const ROUTE_BATCH = 200;

interface TenantRouting {
  channels: Channel[];
  silences: Silence[];
  windows: MaintenanceWindow[];
  grouping: { enabled: boolean; waitMs: number; intervalMs: number };
}

interface RoutedMonitor extends MatchTarget {
  allChannels: boolean;
  channelIds: Set<string>;
}

async function loadTenant(trx: Db, tenantId: string, now: number): Promise<TenantRouting> {
  const settings = await trx
    .selectFrom('tenant_settings')
    .select(['alert_grouping_enabled', 'group_wait_seconds', 'group_interval_seconds'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return {
    channels: (await listChannels(trx, tenantId)).filter((c) => c.isActive),
    silences: await activeSilences(trx, tenantId, now),
    windows: await activeWindows(trx, tenantId, now),
    grouping: { enabled: settings.alert_grouping_enabled === 1, waitMs: settings.group_wait_seconds * 1000, intervalMs: settings.group_interval_seconds * 1000 },
  };
}

async function loadMonitors(trx: Db, monitorIds: string[]): Promise<Map<string, RoutedMonitor>> {
  const unique = [...new Set(monitorIds)];
  const rows = await trx.selectFrom('monitors').select(['id', 'kind', 'name', 'all_channels']).where('id', 'in', unique).execute();
  const tags = await trx.selectFrom('monitor_tags').select(['monitor_id', 'tag']).where('monitor_id', 'in', unique).execute();
  const own = await trx.selectFrom('monitor_channels').select(['monitor_id', 'channel_id']).where('monitor_id', 'in', unique).execute();
  const monitors = new Map<string, RoutedMonitor>();
  for (const row of rows) monitors.set(row.id, { monitorId: row.id, kind: row.kind, name: row.name, tags: [], allChannels: row.all_channels === 1, channelIds: new Set() });
  for (const { monitor_id, tag } of tags) (monitors.get(monitor_id)?.tags as string[] | undefined)?.push(tag);
  for (const { monitor_id, channel_id } of own) monitors.get(monitor_id)?.channelIds.add(channel_id);
  return monitors;
}

/** Why an event notifies no one, or null. Maintenance holds back failures, not the end of one. */
export function suppressionOf(event: Pick<AlertEventsTable, 'to_state'>, monitor: MatchTarget, tenant: Pick<TenantRouting, 'silences' | 'windows'>): string | null {
  const silence = tenant.silences.find((s) => allMatch(s.matchers, monitor));
  if (silence) return `silence ${silence.id}`;
  if (!endsFailure(event.to_state)) {
    const window = tenant.windows.find((w) => windowCovers(w, monitor.monitorId, monitor.tags));
    if (window) return `maintenance ${window.id}`;
  }
  return null;
}

export function channelsFor(event: Pick<AlertEventsTable, 'to_state' | 'severity'>, monitor: RoutedMonitor, channels: readonly Channel[]): Channel[] {
  return channels.filter(
    (channel) =>
      (monitor.allChannels || monitor.channelIds.has(channel.id)) &&
      (channel.severities === null || channel.severities.includes(event.severity as never)) &&
      (channel.tags === null || monitor.tags.some((tag) => channel.tags!.includes(tag))) &&
      (channel.sendResolved || !endsFailure(event.to_state)),
  );
}

/** The channels that got (or are queued to get) a message about an earlier event of this incident. */
async function channelsToldOf(trx: Db, event: Pick<AlertEventsTable, 'id' | 'incident_id'>): Promise<Set<string>> {
  const rows = await trx
    .selectFrom('notification_items')
    .innerJoin('alert_events', 'alert_events.id', 'notification_items.event_id')
    .select('notification_items.channel_id')
    .distinct()
    .where('alert_events.incident_id', '=', event.incident_id)
    .where('alert_events.id', '!=', event.id)
    .execute();
  return new Set(rows.map((row) => row.channel_id));
}

export interface AlertRouterOptions {
  db: Db;
  clock: Clock;
}

export function createAlertRouter({ db, clock }: AlertRouterOptions) {
  async function claim(trx: Db, now: number) {
    const unrouted = dialectOf(trx).claimRows(trx.selectFrom('alert_events').select('id').where('routed_at', 'is', null).orderBy('at').orderBy('id').limit(ROUTE_BATCH));
    return trx.updateTable('alert_events').set({ routed_at: now }).where('id', 'in', unrouted).where('routed_at', 'is', null).returningAll().execute();
  }

  async function enqueue(trx: Db, event: AlertEventsTable, channel: Channel, grouping: TenantRouting['grouping'], now: number): Promise<void> {
    const item = { event_id: event.id, channel_id: channel.id, tenant_id: event.tenant_id };
    const base = { tenant_id: event.tenant_id, channel_id: channel.id, idempotency_key: idempotencyKey(event.flip_id ?? event.id, channel.id), status: 'pending', created_at: now };
    if (!grouping.enabled) {
      const id = randomUUID();
      await trx
        .insertInto('notifications')
        .values({ ...base, id, grouped: 0, open_group: null, due_at: now })
        .execute();
      await trx
        .insertInto('notification_items')
        .values({ ...item, notification_id: id })
        .execute();
      return;
    }
    // Locked (where rows lock: PostgreSQL) so a delivery claiming this group waits for the event
    // to join it, or (if it claimed first) leaves no open group and a new one starts.
    const open = await dialectOf(trx)
      .lockRows(trx.selectFrom('notifications').select('id').where('open_group', '=', channel.id))
      .executeTakeFirst();
    if (open) {
      await trx
        .insertInto('notification_items')
        .values({ ...item, notification_id: open.id })
        .execute();
      return;
    }
    const last = await trx
      .selectFrom('notifications')
      .select((eb) => eb.fn.max('first_attempt_at').as('flushed_at'))
      .where('channel_id', '=', channel.id)
      .where('grouped', '=', 1)
      .executeTakeFirst();
    const lastFlush = last?.flushed_at === null || last?.flushed_at === undefined ? null : Number(last.flushed_at);
    const dueAt = Math.max(now + grouping.waitMs, lastFlush === null ? 0 : lastFlush + grouping.intervalMs);
    const id = randomUUID();
    await trx
      .insertInto('notifications')
      .values({ ...base, id, grouped: 1, open_group: channel.id, due_at: dueAt })
      .execute();
    await trx
      .insertInto('notification_items')
      .values({ ...item, notification_id: id })
      .execute();
  }

  return {
    /**
     * Routes one batch of events, in the given transaction or in one of its own; returns how many
     * events it took (ROUTE_BATCH: there may be more).
     */
    async routeBatch(within?: Db): Promise<{ events: number; queued: number }> {
      const now = clock.now();
      return inTransaction(db, within, async (trx) => {
        const events = await claim(trx, now);
        if (events.length === 0) return { events: 0, queued: 0 };
        const monitors = await loadMonitors(
          trx,
          events.map((e) => e.monitor_id),
        );
        const tenants = new Map<string, TenantRouting>();
        let queued = 0;
        for (const event of events) {
          const monitor = monitors.get(event.monitor_id);
          if (!monitor) continue; // deleted in the meantime: its events go with it
          let tenant = tenants.get(event.tenant_id);
          if (!tenant) tenants.set(event.tenant_id, (tenant = await loadTenant(trx, event.tenant_id, now)));
          const suppressedBy = suppressionOf(event, monitor, tenant);
          if (suppressedBy) {
            await trx.updateTable('alert_events').set({ suppressed_by: suppressedBy }).where('id', '=', event.id).execute();
            continue;
          }
          let channels = channelsFor(event, monitor, tenant.channels);
          if (endsFailure(event.to_state) && event.incident_id !== null && channels.length > 0) {
            const told = await channelsToldOf(trx, event);
            channels = channels.filter((channel) => told.has(channel.id));
          }
          for (const channel of channels) {
            await enqueue(trx, event, channel, tenant.grouping, now);
            queued++;
          }
        }
        return { events: events.length, queued };
      });
    },
  };
}

export type AlertRouter = ReturnType<typeof createAlertRouter>;
