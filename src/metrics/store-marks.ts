/**
 * How far the series store's upkeep got, kept in `app_meta` so that a restart resumes where it
 * stopped and so that readers know which source holds complete data for a time:
 *
 * - `minuteWatermark`: every minute before it is in series_rollups_minute (samples that arrive
 *   later for those minutes are recomputed by the late-sample pass); from it on, only raw
 *   samples hold the data.
 * - `hourWatermark` (<= minuteWatermark): every hour before it is in series_rollups_hour.
 * - `rawPrunedBefore` / `minutePrunedBefore`: retention deleted raw samples / minute rollups
 *   before these times, so a finer source is incomplete before them.
 *
 * Unset marks read as 0: nothing rolled up yet, nothing pruned yet.
 */
import type { Db } from '../db/database.js';

export const STORE_MARK_KEYS = {
  minuteWatermark: 'metrics_rollup_minute_watermark',
  hourWatermark: 'metrics_rollup_hour_watermark',
  rawPrunedBefore: 'metrics_raw_pruned_before',
  minutePrunedBefore: 'metrics_minute_rollups_pruned_before',
} as const;

export type StoreMarkName = keyof typeof STORE_MARK_KEYS;
export type StoreMarks = Record<StoreMarkName, number>;

export async function readStoreMarks(db: Db): Promise<StoreMarks> {
  const rows = await db.selectFrom('app_meta').select(['key', 'value']).where('key', 'in', Object.values(STORE_MARK_KEYS)).execute();
  const byKey = new Map(rows.map((row) => [row.key, Number(row.value)]));
  const read = (name: StoreMarkName) => byKey.get(STORE_MARK_KEYS[name]) ?? 0;
  return { minuteWatermark: read('minuteWatermark'), hourWatermark: read('hourWatermark'), rawPrunedBefore: read('rawPrunedBefore'), minutePrunedBefore: read('minutePrunedBefore') };
}

export async function writeStoreMark(db: Db, name: StoreMarkName, value: number): Promise<void> {
  const key = STORE_MARK_KEYS[name];
  await db
    .insertInto('app_meta')
    .values({ key, value: String(value) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(value) }))
    .execute();
}
