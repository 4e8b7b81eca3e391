/**
 * The alerting loop of a process: routes alert events and delivers the outbox as soon as it is
 * woken (a flip committed here, a send finished) and at least every second (events from
 * elsewhere, retries that fell due); sweeps maintenance windows and reminders on slower timers.
 *
 * One pass is one transaction: it records the sends that finished since the last pass, routes
 * new events, and claims what is due. On SQLite every commit waits for the disk (synchronous =
 * FULL) and blocks the event loop meanwhile, so one commit per pass instead of three per alert
 * is what keeps a burst of a thousand flips under half a second each (bench/alerts.mjs). Passes
 * are at least `minPassGapMs` apart, so a burst shares its commits. Sends run concurrently up
 * to a limit, so one slow channel does not hold back the others. A send that finished but whose
 * outcome was not yet committed when the process died is sent again after its lease, with the
 * same idempotency key.
 */
import { stagedEvents } from '../realtime/staged.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { ClaimedNotification, Delivery, DeliveryOutcome } from './delivery.js';
import type { MaintenanceService } from './maintenance.service.js';
import type { Reminders } from './reminders.js';
import { ROUTE_BATCH, type AlertRouter } from './router.js';
import type { WakeSignal } from './wake-signal.js';

export interface AlertingWorkOptions {
  db: Db;
  router: AlertRouter;
  delivery: Delivery;
  reminders: Reminders;
  maintenance: MaintenanceService;
  signal: WakeSignal;
  logger: Logger;
  /** Sends in flight at once. */
  concurrency?: number;
  pollMs?: number;
  minPassGapMs?: number;
  maintenanceSweepMs?: number;
  reminderSweepMs?: number;
}

export function createAlertingWork(options: AlertingWorkOptions) {
  const { db, router, delivery, reminders, maintenance, signal, logger } = options;
  const concurrency = options.concurrency ?? 64;
  const minPassGapMs = options.minPassGapMs ?? 20;
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Sends that finished, waiting for the next pass to record them. */
  let finished: DeliveryOutcome[] = [];
  let stopped = true;
  let again = false;
  let running: Promise<void> | undefined;
  let lastPassAt = 0;
  /** When a pass last finished without error (wall-clock ms, like the pacing above); null before the first. */
  let lastCompletedPassAt: number | null = null;

  function startSend(row: ClaimedNotification): void {
    const sending = delivery
      .attempt(row)
      .then((outcome) => {
        finished.push(outcome);
      })
      .catch((error: unknown) => logger.error({ err: error, notification: row.id }, 'a send failed unexpectedly; the row is retried when its lease ends'))
      .finally(() => {
        inFlight.delete(sending);
        wake();
      });
    inFlight.add(sending);
  }

  async function pass(): Promise<void> {
    const outcomes = finished;
    finished = [];
    let claimed: ClaimedNotification[];
    try {
      const done = await db.transaction().execute(async (trx) => {
        for (const outcome of outcomes) await delivery.recordOutcome(trx, outcome);
        while ((await router.routeBatch(trx)).events === ROUTE_BATCH) {
          // a full batch: there may be more waiting
        }
        return { claimed: await delivery.claim(concurrency - inFlight.size, trx), events: stagedEvents(trx) };
      });
      delivery.committed(done.events);
      claimed = done.claimed;
    } catch (error) {
      finished = outcomes.concat(finished); // record them next time
      throw error;
    }
    for (const row of claimed) startSend(row);
  }

  function wake(): void {
    if (stopped) return;
    again = true;
    running ??= (async () => {
      while (again) {
        again = false;
        const wait = lastPassAt + minPassGapMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        lastPassAt = Date.now();
        try {
          await pass();
          lastCompletedPassAt = Date.now();
        } catch (error) {
          // e.g. the database is briefly unreachable: the next poll tries again.
          logger.warn({ err: error }, 'alerting pass failed');
        }
        if (stopped && finished.length === 0) break;
      }
    })().finally(() => (running = undefined));
  }

  function every(ms: number, task: () => Promise<unknown>, what: string): void {
    const timer = setInterval(() => {
      if (stopped) return;
      task()
        .then(() => wake())
        .catch((error: unknown) => logger.warn({ err: error }, `${what} failed`));
    }, ms);
    timer.unref();
    timers.push(timer);
  }

  return {
    wake,
    /**
     * Read-only, for the delivery self check: how long ago the loop last completed a pass; null
     * before the first. A duration, so that it means the same whatever clock the reader keeps.
     */
    msSinceLastPass: (): number | null => (lastCompletedPassAt === null ? null : Math.max(0, Date.now() - lastCompletedPassAt)),
    start(): void {
      stopped = false;
      signal.listen(wake);
      const poll = setInterval(wake, options.pollMs ?? 1000);
      poll.unref();
      timers.push(poll);
      every(options.maintenanceSweepMs ?? 5000, () => maintenance.sweep(), 'maintenance sweep');
      every(options.reminderSweepMs ?? 15_000, () => reminders.queueDue(), 'reminder sweep');
      wake();
    },
    /** Stops taking work, waits for sends in flight, and records their outcomes. */
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      await running;
      await Promise.all([...inFlight]);
      const outcomes = finished;
      finished = [];
      if (outcomes.length) {
        const events = await db.transaction().execute(async (trx) => {
          for (const outcome of outcomes) await delivery.recordOutcome(trx, outcome);
          return stagedEvents(trx);
        });
        delivery.committed(events);
      }
    },
  };
}

export type AlertingWork = ReturnType<typeof createAlertingWork>;
