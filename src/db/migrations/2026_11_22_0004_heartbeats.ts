import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * Heartbeat (cron job) checks, Healthchecks-style: a check's own settings and status beside its
 * monitor row, and its pings. `deadline_at` is the check's next moment of truth (late, then
 * down), indexed so the sweep reads only the checks whose moment has come. Tenants get a ping
 * key for the `/ping/{ping_key}/{slug}` URLs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);

  await db.schema.alterTable('tenant_settings').addColumn('ping_key', 'text').execute();
  await db.schema.createIndex('tenant_settings_ping_key_idx').on('tenant_settings').column('ping_key').unique().execute();

  await db.schema
    .createTable('heartbeat_checks')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('slug', 'text')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('grace_seconds', 'integer', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('tz', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('manual_resume', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('methods', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('new'))
    .addColumn('last_ping_at', 'bigint')
    .addColumn('last_start_at', 'bigint')
    .addColumn('last_duration_ms', 'bigint')
    .addColumn('n_pings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('alert_after', 'bigint')
    .addColumn('deadline_at', 'bigint')
    .execute();
  await db.schema.createIndex('heartbeat_checks_tenant_slug_idx').on('heartbeat_checks').columns(['tenant_id', 'slug']).unique().execute();
  await db.schema.createIndex('heartbeat_checks_deadline_idx').on('heartbeat_checks').column('deadline_at').where(sql.ref('deadline_at'), 'is not', null).execute();

  await db.schema
    .createTable('pings')
    .addColumn('id', dialect.autoIncrementType, (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('exit_status', 'integer')
    .addColumn('rid', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('remote_addr', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('body', 'text')
    .addColumn('body_size', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', 'bigint')
    .execute();
  await db.schema.createIndex('pings_monitor_n_idx').on('pings').columns(['monitor_id', 'n']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pings').execute();
  await db.schema.dropTable('heartbeat_checks').execute();
  await db.schema.dropIndex('tenant_settings_ping_key_idx').execute();
  await db.schema.alterTable('tenant_settings').dropColumn('ping_key').execute();
}
