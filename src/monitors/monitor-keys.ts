/**
 * The small integer key of a monitor in the high-volume tables (check_results, rollups): created
 * on first use, never reused while the monitor exists (deleting the monitor cascades).
 */
import type { Db } from '../db/database.js';

export async function keyOf(db: Db, monitorId: string): Promise<number | undefined> {
  const row = await db.selectFrom('monitor_keys').select('key').where('monitor_id', '=', monitorId).executeTakeFirst();
  return row?.key;
}

export async function ensureKey(db: Db, monitorId: string): Promise<number> {
  const found = await keyOf(db, monitorId);
  if (found !== undefined) return found;
  await db
    .insertInto('monitor_keys')
    .values({ monitor_id: monitorId })
    .onConflict((oc) => oc.column('monitor_id').doNothing())
    .execute();
  return (await keyOf(db, monitorId))!;
}

/** Gives every monitor a key (the rollup job's start): one statement, whatever their number. */
export async function ensureAllKeys(db: Db): Promise<void> {
  await db
    .insertInto('monitor_keys')
    .columns(['monitor_id'])
    .expression((eb) =>
      eb
        .selectFrom('monitors')
        .select('id')
        .where((w) => w.not(w.exists(w.selectFrom('monitor_keys').select('key').whereRef('monitor_keys.monitor_id', '=', 'monitors.id')))),
    )
    .onConflict((oc) => oc.column('monitor_id').doNothing())
    .execute();
}
