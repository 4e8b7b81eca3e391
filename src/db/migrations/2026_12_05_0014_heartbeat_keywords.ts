/**
 * Healthchecks' keyword filters for e-mail pings (its `filter_subject`, `filter_body`,
 * `start_kw`, `success_kw`, `failure_kw`): which part of a message is searched, and the
 * comma-separated keywords that make it a start, a success or a failure. Defaults are
 * Healthchecks' own (no filtering, empty keyword lists). Added as one migration before the
 * Healthchecks drop-in work splits in two (the API that sets them, the e-mail listener that
 * reads them).
 */
import type { Kysely } from 'kysely';

const TEXT_COLUMNS = ['start_kw', 'success_kw', 'failure_kw'] as const;
const FLAG_COLUMNS = ['filter_subject', 'filter_body'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of TEXT_COLUMNS) {
    await db.schema
      .alterTable('heartbeat_checks')
      .addColumn(column, 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  }
  for (const column of FLAG_COLUMNS) {
    await db.schema
      .alterTable('heartbeat_checks')
      .addColumn(column, 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [...TEXT_COLUMNS, ...FLAG_COLUMNS]) await db.schema.alterTable('heartbeat_checks').dropColumn(column).execute();
}
