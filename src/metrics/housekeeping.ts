/**
 * The series store's periodic upkeep, every minute by default: rollups (with late samples),
 * then retention. Started and stopped with the rest of the background work (runtime.ts); one
 * pass at a time, a failed pass is logged and retried at the next tick.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { pruneSeriesStore, type MetricsRetentionDays, type PruneReport } from './retention.js';
import { createSeriesRollups, type RollupReport } from './rollups.js';
import type { SampleEvents } from './sample-events.js';

export interface MetricsHousekeepingOptions {
  db: Db;
  clock: Clock;
  retention: MetricsRetentionDays;
  /** Where ingestion says what it stored: late samples are heard here. */
  sampleEvents?: SampleEvents;
  logger: Pick<Logger, 'warn' | 'debug'>;
}

export function createMetricsHousekeeping({ db, clock, retention, sampleEvents, logger }: MetricsHousekeepingOptions) {
  const rollups = createSeriesRollups({ db, clock, events: sampleEvents });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function runOnce(): Promise<{ rolled: RollupReport; pruned: PruneReport }> {
    const rolled = await rollups.run();
    const pruned = await pruneSeriesStore(db, clock.now(), retention);
    logger.debug({ rolled, pruned }, 'metrics housekeeping done');
    return { rolled, pruned };
  }

  const tick = () =>
    (running ??= runOnce()
      .then(() => undefined)
      .catch((error: unknown) => logger.warn({ err: error }, 'metrics housekeeping failed; retrying next tick'))
      .finally(() => (running = undefined)));

  return {
    runOnce,
    pendingLateSeries: () => rollups.pendingLateSeries(),
    start(everyMs = 60_000) {
      timer = setInterval(() => void tick(), everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
      rollups.close();
    },
  };
}

export type MetricsHousekeeping = ReturnType<typeof createMetricsHousekeeping>;
