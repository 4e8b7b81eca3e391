/**
 * The numeric samples of one write transaction (several agents' batches), gathered so that they
 * are written in a few multi-row statements at the end. The same series and time twice keeps the
 * value written last — what the table's upsert does, done here too because PostgreSQL refuses to
 * upsert one row twice in one statement.
 */
import type { NumericRows } from './ingest-statements.js';

interface SeriesEntry {
  /** Where the series' first sample of the transaction is. */
  index: number;
  /** The series' other samples (time → index), when it has several in the transaction (rare). */
  more?: Map<number, number>;
}

export class NumericBuffer {
  readonly samples: NumericRows = { ids: [], ats: [], nums: [] };
  private readonly bySeries = new Map<number, SeriesEntry>();

  add(seriesId: number, at: number, value: number): void {
    const { ids, ats, nums } = this.samples;
    const entry = this.bySeries.get(seriesId);
    if (entry === undefined) {
      this.bySeries.set(seriesId, { index: ids.length });
    } else if (ats[entry.index] === at) {
      nums[entry.index] = value;
      return;
    } else {
      entry.more ??= new Map();
      const index = entry.more.get(at);
      if (index !== undefined) {
        nums[index] = value;
        return;
      }
      entry.more.set(at, ids.length);
    }
    ids.push(seriesId);
    ats.push(at);
    nums.push(value);
  }

  get size(): number {
    return this.samples.ids.length;
  }
}
