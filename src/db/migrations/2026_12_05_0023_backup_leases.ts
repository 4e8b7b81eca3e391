/**
 * Backups' robustness (issue 16):
 * - `claim_owner` / `claim_expires_at`: a run being validated or promoted is held by one scanning
 *   process (its owner id) until a lease that the process renews while it works; another process
 *   never takes a live claim, and start-up recovery takes back only expired claims or those of a
 *   process of this host that is no longer running;
 * - `size_baseline_bytes` / `size_baseline_at`: a SIZE_ANOMALY whose size an operator accepted;
 *   the median of later checks starts from it (older healthy runs no longer count);
 * - `size_accepted_at`: the run whose size was accepted, for its history;
 * - an index on `received_at` for the run history's retention pass.
 */
import type { Kysely } from 'kysely';

const RETENTION_INDEX = 'backup_runs_received_idx';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('backup_runs').addColumn('claim_owner', 'text').execute();
  await db.schema.alterTable('backup_runs').addColumn('claim_expires_at', 'bigint').execute();
  await db.schema.alterTable('backup_runs').addColumn('size_accepted_at', 'bigint').execute();
  await db.schema.alterTable('backup_jobs').addColumn('size_baseline_bytes', 'bigint').execute();
  await db.schema.alterTable('backup_jobs').addColumn('size_baseline_at', 'bigint').execute();
  await db.schema.createIndex(RETENTION_INDEX).on('backup_runs').column('received_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex(RETENTION_INDEX).execute();
  for (const column of ['claim_owner', 'claim_expires_at', 'size_accepted_at']) await db.schema.alterTable('backup_runs').dropColumn(column).execute();
  for (const column of ['size_baseline_bytes', 'size_baseline_at']) await db.schema.alterTable('backup_jobs').dropColumn(column).execute();
}
