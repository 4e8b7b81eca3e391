import { sql, type Kysely } from 'kysely';

/**
 * The sweep's index moves from `deadline_at` to a column of its own, `sweep_at`: the moment the
 * sweep next looks at a check, at or before its `deadline_at`. A check pinged every few seconds
 * got a later deadline with each ping, and so an index entry deleted and inserted each time;
 * now its ping writes `deadline_at` (no longer indexed) and leaves `sweep_at` where it is when
 * that is no later than the new deadline. The sweep, once there, moves `sweep_at` on to the
 * deadline (heartbeats/sweep.ts). Existing checks start with `sweep_at` = `deadline_at`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('heartbeat_checks').addColumn('sweep_at', 'bigint').execute();
  await db
    .updateTable('heartbeat_checks')
    .set({ sweep_at: sql.ref('deadline_at') })
    .execute();
  await db.schema.dropIndex('heartbeat_checks_deadline_idx').execute();
  await db.schema.createIndex('heartbeat_checks_sweep_idx').on('heartbeat_checks').column('sweep_at').where(sql.ref('sweep_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('heartbeat_checks_sweep_idx').execute();
  await db.schema.createIndex('heartbeat_checks_deadline_idx').on('heartbeat_checks').column('deadline_at').where(sql.ref('deadline_at'), 'is not', null).execute();
  await db.schema.alterTable('heartbeat_checks').dropColumn('sweep_at').execute();
}
