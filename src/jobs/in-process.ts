import type { Logger } from '../logger.js';
import type { JobHandler, JobRunner } from './job-runner.js';

interface Queue {
  handler: JobHandler<unknown>;
  concurrency: number;
  waiting: unknown[];
  running: number;
}

/** The embedded job runner: one FIFO per job name, each with its own concurrency limit. */
export function createInProcessJobRunner(logger: Pick<Logger, 'error'>): JobRunner {
  const queues = new Map<string, Queue>();
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const busy = () => [...queues.values()].some((q) => q.running > 0 || q.waiting.length > 0);
  const idle = () => (busy() ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve());
  const notifyIfIdle = () => {
    if (busy()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  function pump(name: string, queue: Queue): void {
    while (!stopped && queue.running < queue.concurrency && queue.waiting.length > 0) {
      const payload = queue.waiting.shift();
      queue.running++;
      // A handler that throws before returning its promise must still free its slot.
      let run: Promise<void>;
      try {
        run = queue.handler(payload);
      } catch (error) {
        run = Promise.reject(error);
      }
      run
        .catch((error: unknown) => logger.error({ err: error, job: name }, 'job failed'))
        .finally(() => {
          queue.running--;
          pump(name, queue);
          notifyIfIdle();
        });
    }
  }

  return {
    define(name, handler, { concurrency }) {
      queues.set(name, { handler: handler as JobHandler<unknown>, concurrency: Math.max(1, concurrency), waiting: [], running: 0 });
    },
    async enqueue(name, payload) {
      const queue = queues.get(name);
      if (!queue) throw new Error(`No job named "${name}" is defined`);
      if (stopped) return;
      queue.waiting.push(payload);
      pump(name, queue);
    },
    depth(name) {
      const queue = queues.get(name);
      return queue ? queue.waiting.length + queue.running : 0;
    },
    idle,
    async stop() {
      stopped = true;
      // Waiting jobs are dropped. Their claim already moved each monitor's stored next_due_at to
      // its next slot, so after a restart the monitor runs at that slot: one slot is skipped, no
      // monitor is forgotten.
      for (const queue of queues.values()) queue.waiting.length = 0;
      // Not `this.idle()`: stop must work when passed around detached from the runner.
      await idle();
    },
  };
}
