/**
 * A machine's history (its ingested batches, kinds/machine/history.ts) is read by machine and
 * time: index ingest_batches on (machine_id, received_at).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('ingest_batches_machine_idx').on('ingest_batches').columns(['machine_id', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('ingest_batches_machine_idx').execute();
}
