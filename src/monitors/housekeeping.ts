/** The periodic upkeep of the monitor core: rollups of completed hours and days, then pruning. */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { defaultHistoryFor, prune, rollUp, type HistoryFor, type RetentionDays } from './rollups.js';

export interface HousekeepingOptions {
  db: Db;
  clock: Clock;
  retention: RetentionDays;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** Each kind's history source, which its hour rollups are computed from (default: check_results). */
  historyFor?: HistoryFor;
}

export function createHousekeeping({ db, clock, retention, logger, historyFor = defaultHistoryFor }: HousekeepingOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function runOnce(): Promise<void> {
    const now = clock.now();
    const rolled = await rollUp(db, now, historyFor);
    const pruned = await prune(db, now, retention);
    logger.debug({ rolled, pruned }, 'housekeeping done');
  }

  const run = () =>
    (running ??= runOnce()
      .catch((error: unknown) => logger.warn({ err: error }, 'housekeeping failed; retrying next minute'))
      .finally(() => (running = undefined)));

  return {
    runOnce,
    start(everyMs = 60_000) {
      timer = setInterval(() => void run(), everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
