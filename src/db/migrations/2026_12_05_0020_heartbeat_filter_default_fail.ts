/**
 * Healthchecks' "If no keywords match" option for e-mail pings (its `filter_default_fail`): with
 * keyword filtering on, a message that matches no keyword is a failure instead of an ignored
 * ping. Off by default, as in Healthchecks.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('heartbeat_checks')
    .addColumn('filter_default_fail', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('heartbeat_checks').dropColumn('filter_default_fail').execute();
}
