/**
 * The numeric samples of one write transaction (several agents' batches), gathered so that they
 * are written in a few multi-row statements at the end. The same series and time twice keeps the
 * value written last — what the table's upsert does, done here too because PostgreSQL refuses to
 * upsert one row twice in one statement.
 *
 * A series usually has one sample per transaction: it costs one map entry (series → index);
 * only a series with several gets entries keyed by series and time.
 */
import type { NumericRows } from './ingest-statements.js';

export class NumericBuffer {
  readonly samples: NumericRows = { ids: [], ats: [], nums: [] };
  /** Series → index of its first sample in `samples`. */
  private readonly first = new Map<number, number>();
  /** "series/time" → index, for the other samples of series that have several. */
  private more: Map<string, number> | undefined;

  add(seriesId: number, at: number, value: number): void {
    const { ids, ats, nums } = this.samples;
    const index = this.first.get(seriesId);
    if (index === undefined) {
      this.first.set(seriesId, ids.length);
    } else if (ats[index] === at) {
      nums[index] = value;
      return;
    } else {
      const key = `${seriesId}/${at}`;
      this.more ??= new Map();
      const other = this.more.get(key);
      if (other !== undefined) {
        nums[other] = value;
        return;
      }
      this.more.set(key, ids.length);
    }
    ids.push(seriesId);
    ats.push(at);
    nums.push(value);
  }
}
