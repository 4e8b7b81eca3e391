/**
 * Run history retention: runs received before a cutoff are deleted, in batches, except those the
 * backups still need: a job's current copies (promoted and not pruned), its newest run (an agent
 * that stopped keeps listing it in its STATUS.json: deleted, it would be taken as new), and runs
 * not yet finished or whose deposit is not yet cleaned up. The size check's median reads only
 * promoted runs, so it loses only runs older than the retention.
 */
import type { Db } from '../../db/database.js';

const BATCH = 1000;

export async function pruneRunHistory(db: Db, cutoff: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = await db
      .selectFrom('backup_runs as old')
      .select('old.id')
      .where('old.received_at', '<', cutoff)
      .where('old.state', 'in', ['promoted', 'rejected', 'missed'])
      .where('old.cleaned_at', 'is not', null)
      .where((eb) => eb.or([eb('old.state', '!=', 'promoted'), eb('old.pruned_at', 'is not', null)]))
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('backup_runs as newer').select('newer.id').whereRef('newer.monitor_id', '=', 'old.monitor_id').whereRef('newer.received_at', '>', 'old.received_at')),
      )
      .limit(BATCH)
      .execute();
    if (ids.length === 0) return deleted;
    const result = await db
      .deleteFrom('backup_runs')
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      )
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    if (ids.length < BATCH) return deleted;
  }
}
