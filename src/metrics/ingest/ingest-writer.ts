/**
 * Ingestion's group commit. An agent's batch is answered only once it is committed, and batches
 * are committed together: whatever arrives while a transaction is being written goes into the
 * next one, so twenty agents posting at once cost a few commits, not twenty (on SQLite each
 * commit waits for the disk). Each transaction writes its batches one after the other (ingest
 * id, machine, series, bool/string changes), then every numeric sample of all of them in a few
 * multi-row statements into `samples_recent` (the sample mover moves them on to `samples` and
 * moves the series' latest values forward: sample-mover.ts).
 *
 * The ingest id's row is written in the same transaction as the samples: after a crash, either
 * both are there or neither, and a batch whose answer was never received is stored at most once
 * when the agent sends it again.
 *
 * A transaction that fails (a batch the database refuses, a series deleted meanwhile) is retried
 * batch by batch, after clearing the series cache, so one bad batch does not take the others
 * with it. After each commit, `sampleEvents.stored` tells rules and counters what was stored.
 */
import type { Db } from '../../db/database.js';
import { createGroupCommit } from '../../db/group-commit.js';
import type { Logger } from '../../logger.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import type { RealtimeEvent } from '../../realtime/topics.js';
import type { SampleEvents } from '../sample-events.js';
import { createIngestStatements } from './ingest-statements.js';
import { NumericBuffer } from './numeric-buffer.js';
import { createSeriesCache } from './series-cache.js';
import { writeBatch, type BatchOutcome, type IngestRequest, type IngestResponse, type WriteContext } from './write-batch.js';

/** Metrics per transaction at most (a single larger batch still goes alone). */
const MAX_METRICS_PER_TRANSACTION = 20_000;

export interface IngestWriterOptions {
  db: Db;
  recorder: ResultRecorder;
  sampleEvents: SampleEvents;
  logger?: Logger;
  /** Series ids kept in memory at most. */
  maxCachedSeries?: number;
}

interface Pending {
  request: IngestRequest;
  resolve: (response: IngestResponse) => void;
  reject: (error: unknown) => void;
}

export function createIngestWriter({ db, recorder, sampleEvents, logger, maxCachedSeries }: IngestWriterOptions) {
  const statements = createIngestStatements(db);
  const cache = createSeriesCache(maxCachedSeries);

  /** Writes the batches in one transaction and settles them; when it fails, rejects them if `last`, and throws. */
  async function writeAll(batch: Pending[], last: boolean): Promise<void> {
    let outcomes: BatchOutcome[] & { events?: RealtimeEvent[] };
    try {
      outcomes = await db.transaction().execute(async (trx) => {
        const ctx: WriteContext = { statements, cache, recorder, numeric: new NumericBuffer() };
        const out: BatchOutcome[] = [];
        for (const pending of batch) out.push(await writeBatch(trx, ctx, pending.request));
        await statements.insertSamples(trx, ctx.numeric.samples);
        return Object.assign(out, { events: recorder.staged(trx) });
      });
    } catch (error) {
      // What the transaction added to the cache may be rolled back, and a cached id may be gone.
      cache.clear();
      if (last) {
        logger?.error({ err: error }, 'writing an ingest batch failed');
        batch[0]!.reject(error);
      }
      throw error;
    }
    recorder.committed(outcomes.events);
    if (outcomes.some((o) => o.kind === 'stored' && o.alerted)) recorder.alertWritten();
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.kind === 'refused') return pending.reject(outcome.error);
      pending.resolve(outcome.response);
      if (outcome.kind === 'stored') sampleEvents.stored(outcome.stored);
    });
  }

  /**
   * A failed transaction is written again batch by batch, with a fresh cache: a series or machine
   * deleted behind the cache then resolves from the database, and one batch the database refuses
   * no longer takes the others with it. A batch that fails alone is refused with the error.
   */
  async function writeBatches(batch: Pending[]): Promise<void> {
    try {
      await writeAll(batch, false);
    } catch {
      for (const pending of batch) await writeAll([pending], true).catch(() => undefined);
    }
  }

  /** The next transaction's batches: up to MAX_METRICS_PER_TRANSACTION metrics, at least one batch. */
  function take(queue: readonly Pending[]): number {
    let metrics = 0;
    let n = 0;
    while (n < queue.length) {
      metrics += queue[n]!.request.batch.metrics.length;
      if (n > 0 && metrics > MAX_METRICS_PER_TRANSACTION) break;
      n++;
    }
    return n;
  }

  const commits = createGroupCommit<Pending>({ write: writeBatches, take });

  return {
    /** Resolves once the batch is committed (or found to be a duplicate); rejects with a ValidationError for a refused batch. */
    submit(request: IngestRequest): Promise<IngestResponse> {
      return new Promise((resolve, reject) => commits.push({ request, resolve, reject }));
    },
    /** Writes what is queued now (shutdown). */
    flush: () => commits.flush(),
    /** Series ids held in memory (for tests and diagnostics). */
    cachedSeries: () => cache.size(),
  };
}

export type IngestWriter = ReturnType<typeof createIngestWriter>;
