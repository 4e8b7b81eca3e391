/**
 * Healthchecks' check semantics (issue 14):
 * - `filter_http_body` / `filter_default_fail`: its keyword filter for HTTP ping bodies, and what
 *   a body that matches no keyword counts as (a failure, or an ignored ping);
 * - `last_start_rid`: the run id of the last `/start`, so that a success with another `rid`
 *   leaves that run started and only the matching end measures its duration;
 * - `tags_text`: the tags exactly as the Healthchecks API was given them (it answers them as sent,
 *   order and repeats kept; `monitor_tags` keeps the set for filters); null when set elsewhere;
 * - slugs may repeat (a slug ping to a repeated slug is "ambiguous"), so their index is no longer
 *   unique;
 * - `started` stops being a stored status (a started check stays new/up/grace/down, as in
 *   Healthchecks): rows left in it go back to what they were before their start.
 */
import { sql, type Kysely } from 'kysely';

const FLAG_COLUMNS = ['filter_http_body', 'filter_default_fail'] as const;
const SLUG_INDEX = 'heartbeat_checks_tenant_slug_idx';

export async function up(db: Kysely<any>): Promise<void> {
  for (const column of FLAG_COLUMNS) {
    await db.schema
      .alterTable('heartbeat_checks')
      .addColumn(column, 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await db.schema.alterTable('heartbeat_checks').addColumn('last_start_rid', 'text').execute();
  await db.schema.alterTable('heartbeat_checks').addColumn('tags_text', 'text').execute();
  await db.schema.dropIndex(SLUG_INDEX).execute();
  await db.schema.createIndex(SLUG_INDEX).on('heartbeat_checks').columns(['tenant_id', 'slug']).execute();
  await db
    .updateTable('heartbeat_checks')
    .set({ status: sql`case when last_ping_at is null then 'new' else 'up' end` })
    .where('status', '=', 'started')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex(SLUG_INDEX).execute();
  await db.schema.createIndex(SLUG_INDEX).on('heartbeat_checks').columns(['tenant_id', 'slug']).unique().execute();
  for (const column of [...FLAG_COLUMNS, 'last_start_rid', 'tags_text']) await db.schema.alterTable('heartbeat_checks').dropColumn(column).execute();
}
