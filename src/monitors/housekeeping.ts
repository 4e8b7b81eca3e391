/** The periodic upkeep of the monitor core: rollups of completed minutes and hours, then pruning. */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { prune, rollUp, type RetentionDays } from './rollups.js';

export function createHousekeeping({ db, clock, retention, logger }: { db: Db; clock: Clock; retention: RetentionDays; logger: Pick<Logger, 'warn' | 'debug'> }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function runOnce(): Promise<void> {
    const now = clock.now();
    const rolled = await rollUp(db, now);
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
