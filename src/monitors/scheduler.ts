/**
 * Finds due monitors and hands their checks to the job runner.
 *
 * Due work is found through the index on `next_due_at` and claimed with a compare-and-set that
 * moves `next_due_at` forward: whoever moves it first runs the check, so two schedulers never
 * run the same slot. Each monitor's slots sit at a stable phase within its interval (a hash of
 * its id), so monitors created or resumed together do not stay clumped into the same seconds
 * of every interval; once on its phase, a monitor keeps an exact cadence (previous slot +
 * interval). A monitor that fell more than an interval behind skips the missed slots instead
 * of bursting.
 * On start, monitors whose time passed while Vigie was down are spread over their interval
 * (jitter) rather than all run at once. Claims stop when the job queue is full, so a slow
 * target delays only itself.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { Logger } from '../logger.js';

export const CHECK_JOB = 'monitor-check';

export interface CheckJob {
  monitorId: string;
  /** The slot this run fills: scheduling lag = start time − dueAt. */
  dueAt: number;
}

export interface SchedulerOptions {
  db: Db;
  clock: Clock;
  jobs: JobRunner;
  /** Most checks waiting or running at once; claims pause above it. */
  maxQueued: number;
  logger: Pick<Logger, 'warn'>;
  /** Random source in [0, 1), injectable so tests can pin the jitter. */
  random?: () => number;
  /** Where a monitor's slots fall in its interval; injectable so tests can pin it. */
  phase?: (monitorId: string, intervalMs: number) => number;
}

const CLAIM_BATCH = 500;

/** Where in its interval a monitor's slots fall: FNV-1a of its id, so stable and well spread. */
export function phaseOf(monitorId: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < monitorId.length; i++) hash = Math.imul(hash ^ monitorId.charCodeAt(i), 0x01000193) >>> 0;
  return hash % intervalMs;
}

/**
 * The slot after a run due at `dueAt`: the first time after it on the monitor's phase grid
 * (phase + k × interval), i.e. dueAt + interval when dueAt is on the grid. When that is already
 * past, the first grid slot after `now`.
 */
export function nextSlot(dueAt: number, intervalMs: number, now: number, phaseMs = 0): number {
  const slotAfter = (t: number) => t + intervalMs - ((((t - phaseMs) % intervalMs) + intervalMs) % intervalMs);
  const next = slotAfter(dueAt);
  return next > now ? next : slotAfter(now);
}

export function createScheduler({ db, clock, jobs, maxQueued, logger, random = Math.random, phase = phaseOf }: SchedulerOptions) {
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<number> | undefined;

  /**
   * Spreads monitors that became due while Vigie was not running over their interval, oldest
   * first (a fixed order, so a pinned `random` gives each monitor a known slot). Written in
   * batches of one transaction each: one commit per batch, not one per monitor.
   */
  async function spreadOverdue(): Promise<number> {
    const now = clock.now();
    const overdue = await db
      .selectFrom('monitors')
      .select(['id', 'interval_seconds', 'next_due_at'])
      .where('next_due_at', 'is not', null)
      .where('next_due_at', '<', now)
      .orderBy('next_due_at')
      .orderBy('id')
      .execute();
    for (let i = 0; i < overdue.length; i += CLAIM_BATCH) {
      const batch = overdue.slice(i, i + CLAIM_BATCH).map((monitor) => ({
        ...monitor,
        spreadTo: now + Math.floor(random() * Math.max(1, (monitor.interval_seconds ?? 60) * 1000)),
      }));
      await db.transaction().execute(async (trx) => {
        for (const monitor of batch) {
          // Compare-and-set: a monitor claimed or paused meanwhile keeps what was written.
          await trx.updateTable('monitors').set({ next_due_at: monitor.spreadTo }).where('id', '=', monitor.id).where('next_due_at', '=', monitor.next_due_at).execute();
        }
      });
    }
    return overdue.length;
  }

  /** Claims due monitors and enqueues their checks; returns how many it claimed. */
  async function tick(): Promise<number> {
    const room = maxQueued - jobs.depth(CHECK_JOB);
    if (room <= 0) return 0;
    const now = clock.now();
    const due = await db
      .selectFrom('monitors')
      .select(['id', 'next_due_at', 'interval_seconds'])
      .where('next_due_at', '<=', now)
      // The id breaks ties so that two schedulers lock rows in the same order (no deadlock on
      // PostgreSQL when both claim the same batch).
      .orderBy('next_due_at')
      .orderBy('id')
      .limit(Math.min(room, CLAIM_BATCH))
      .execute();
    // One transaction for the batch: one commit (one fsync on SQLite) instead of one per claim.
    const claimed = await db.transaction().execute(async (trx) => {
      const won: CheckJob[] = [];
      for (const monitor of due) {
        const dueAt = monitor.next_due_at!;
        const intervalMs = monitor.interval_seconds ? monitor.interval_seconds * 1000 : null;
        const next = intervalMs ? nextSlot(dueAt, intervalMs, now, phase(monitor.id, intervalMs)) : null;
        const result = await trx.updateTable('monitors').set({ next_due_at: next }).where('id', '=', monitor.id).where('next_due_at', '=', dueAt).executeTakeFirst();
        if (result.numUpdatedRows > 0n) won.push({ monitorId: monitor.id, dueAt }); // else another scheduler took this slot
      }
      return won;
    });
    for (const job of claimed) await jobs.enqueue<CheckJob>(CHECK_JOB, job);
    return claimed.length;
  }

  const runTick = () => (ticking ??= tick().finally(() => (ticking = undefined)));

  return {
    spreadOverdue,
    tick: runTick,
    start(everyMs = 100) {
      timer = setInterval(() => {
        // A failed tick (e.g. the database is briefly unreachable) is retried on the next one.
        runTick().catch((error: unknown) => logger.warn({ err: error }, 'scheduler tick failed'));
      }, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await ticking;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
