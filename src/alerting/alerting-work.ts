/**
 * The alerting loop of a process: routes alert events and delivers the outbox as soon as it is
 * woken (a flip committed here) and at least every second (events from elsewhere, retries that
 * fell due); sweeps maintenance windows and reminders on slower timers. Sends run concurrently
 * up to a limit, so one slow channel does not hold back the others.
 */
import type { Logger } from '../logger.js';
import type { Delivery, ClaimedNotification } from './delivery.js';
import type { MaintenanceService } from './maintenance.service.js';
import type { Reminders } from './reminders.js';
import { ROUTE_BATCH, type AlertRouter } from './router.js';
import type { WakeSignal } from './wake-signal.js';

export interface AlertingWorkOptions {
  router: AlertRouter;
  delivery: Delivery;
  reminders: Reminders;
  maintenance: MaintenanceService;
  signal: WakeSignal;
  logger: Logger;
  /** Sends in flight at once. */
  concurrency?: number;
  pollMs?: number;
  maintenanceSweepMs?: number;
  reminderSweepMs?: number;
}

export function createAlertingWork(options: AlertingWorkOptions) {
  const { router, delivery, reminders, maintenance, signal, logger } = options;
  const concurrency = options.concurrency ?? 32;
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopped = true;
  let again = false;
  let running: Promise<void> | undefined;

  function startSend(row: ClaimedNotification): void {
    const sending = delivery
      .deliver(row)
      .catch((error: unknown) => logger.error({ err: error, notification: row.id }, 'recording a delivery failed; the row will be retried when its lease ends'))
      .finally(() => {
        inFlight.delete(sending);
        wake(); // room for another send
      });
    inFlight.add(sending);
  }

  async function pass(): Promise<void> {
    while ((await router.routeBatch()).events === ROUTE_BATCH) {
      // a full batch: there may be more waiting
    }
    for (const row of await delivery.claim(concurrency - inFlight.size)) startSend(row);
  }

  function wake(): void {
    if (stopped) return;
    again = true;
    running ??= (async () => {
      while (again && !stopped) {
        again = false;
        try {
          await pass();
        } catch (error) {
          // e.g. the database is briefly unreachable: the next poll tries again.
          logger.warn({ err: error }, 'alerting pass failed');
        }
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
    /** Stops taking work and waits for sends in flight (their rows are recorded, not left to a lease). */
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      await running;
      await Promise.all([...inFlight]);
    },
  };
}

export type AlertingWork = ReturnType<typeof createAlertingWork>;
