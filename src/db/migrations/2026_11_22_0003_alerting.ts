import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * Alerting: channels, per-monitor channel lists, alert events (one per notifiable flip or
 * reminder), the notification outbox with its items and attempts, silences and maintenance
 * windows; the grouping and repeat settings of tenants and monitors.
 *
 * Two unique keys carry the "nothing twice" guarantees: `notification_items (event_id,
 * channel_id)` (an event reaches a channel in one notification at most) and
 * `notifications.open_group` (a channel has at most one group still collecting events).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);

  // SQLite adds one column per ALTER TABLE.
  for (const [column, defaultValue] of [
    ['group_wait_seconds', 30],
    ['group_interval_seconds', 300],
    ['repeat_interval_seconds', 14_400],
  ] as const) {
    await db.schema
      .alterTable('tenant_settings')
      .addColumn(column, 'integer', (c) => c.notNull().defaultTo(defaultValue))
      .execute();
  }
  await db.schema.alterTable('monitors').addColumn('repeat_interval_seconds', 'integer').execute();
  await db.schema
    .alterTable('monitors')
    .addColumn('all_channels', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('incidents').addColumn('last_reminder_at', 'bigint').execute();
  await db.schema.createIndex('incidents_open_idx').on('incidents').column('opened_at').where(sql.ref('state'), '=', 'open').execute();

  await db.schema
    .createTable('channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('config_json', 'text', (c) => c.notNull())
    .addColumn('send_resolved', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('severities_json', 'text')
    .addColumn('tags_json', 'text')
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('is_default_email', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('channels_tenant_name_idx').on('channels').columns(['tenant_id', 'name']).unique().execute();

  await db.schema
    .createTable('monitor_channels')
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_channels_pk', ['monitor_id', 'channel_id'])
    .execute();
  await db.schema.createIndex('monitor_channels_channel_idx').on('monitor_channels').column('channel_id').execute();

  await db.schema
    .createTable('alert_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('flip_id', 'text', (c) => c.unique())
    .addColumn('incident_id', 'text')
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('down_for_ms', 'bigint')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('routed_at', 'bigint')
    .addColumn('suppressed_by', 'text')
    .execute();
  // The router's queue: only events not yet routed are in it.
  await db.schema.createIndex('alert_events_unrouted_idx').on('alert_events').column('at').where(sql.ref('routed_at'), 'is', null).execute();
  await db.schema.createIndex('alert_events_tenant_at_idx').on('alert_events').columns(['tenant_id', 'at']).execute();
  await db.schema.createIndex('alert_events_monitor_idx').on('alert_events').column('monitor_id').execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('grouped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('open_group', 'text', (c) => c.unique())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  // The delivery loop's queue: rows still to send (or whose sender's lease ran out).
  await db.schema.createIndex('notifications_queue_idx').on('notifications').column('due_at').where(sql.ref('status'), 'in', ['pending', 'sending']).execute();
  await db.schema.createIndex('notifications_channel_flush_idx').on('notifications').columns(['channel_id', 'first_attempt_at']).execute();
  await db.schema.createIndex('notifications_tenant_status_idx').on('notifications').columns(['tenant_id', 'status']).execute();

  await db.schema
    .createTable('notification_items')
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull().references('alert_events.id').onDelete('cascade'))
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_items_pk', ['event_id', 'channel_id'])
    .execute();
  await db.schema.createIndex('notification_items_notification_idx').on('notification_items').column('notification_id').execute();

  await db.schema
    .createTable('notification_attempts')
    .addColumn('id', dialect.autoIncrementType, (c) => c.primaryKey())
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('retryable', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notification_attempts_notification_idx').on('notification_attempts').column('notification_id').execute();

  await db.schema
    .createTable('silences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('matchers_json', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('silences_tenant_ends_idx').on('silences').columns(['tenant_id', 'ends_at']).execute();

  await db.schema
    .createTable('maintenance_windows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('starts_at', 'bigint')
    .addColumn('ends_at', 'bigint')
    .addColumn('cron', 'text')
    .addColumn('duration_seconds', 'integer')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('monitor_ids_json', 'text', (c) => c.notNull())
    .addColumn('tags_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('maintenance_windows_tenant_idx').on('maintenance_windows').column('tenant_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['maintenance_windows', 'silences', 'notification_attempts', 'notification_items', 'notifications', 'alert_events', 'monitor_channels', 'channels']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropIndex('incidents_open_idx').execute();
  await db.schema.alterTable('incidents').dropColumn('last_reminder_at').execute();
  await db.schema.alterTable('monitors').dropColumn('all_channels').execute();
  await db.schema.alterTable('monitors').dropColumn('repeat_interval_seconds').execute();
  for (const column of ['group_wait_seconds', 'group_interval_seconds', 'repeat_interval_seconds']) {
    await db.schema.alterTable('tenant_settings').dropColumn(column).execute();
  }
}
