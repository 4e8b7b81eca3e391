/**
 * Background work that a kind (or the core) runs while the process serves: started after
 * migrations and provisioning, stopped in reverse order on shutdown.
 */
import type { Logger } from '../logger.js';

export interface BackgroundLoop {
  /** Names the loop in logs. */
  readonly name: string;
  start(): void | Promise<void>;
  /** Resolves once its work under way has finished (and anything it buffers is written). */
  stop(): Promise<void>;
}

/**
 * A loop that runs `run` every `intervalMs`; a run still going when the next is due is not
 * doubled, and a failure is logged (the next tick retries) rather than lost.
 */
export function intervalLoop(name: string, intervalMs: number, run: () => Promise<unknown>, logger: Pick<Logger, 'warn'>): BackgroundLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    name,
    start() {
      timer = setInterval(() => {
        running ??= run()
          .catch((error: unknown) => logger.warn({ err: error }, `${name} failed; retried at the next tick`))
          .finally(() => (running = undefined));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** A loop that has nothing to start and only writes what it buffers on stop (pings, ingest batches). */
export const flushOnStop = (name: string, flush: () => Promise<unknown>): BackgroundLoop => ({
  name,
  start() {},
  async stop() {
    await flush();
  },
});

/** An object that already starts and stops itself (the sample mover, housekeeping), as a named loop. */
export const namedLoop = (name: string, work: { start(): void; stop(): Promise<void> | void }): BackgroundLoop => ({
  name,
  start: () => work.start(),
  async stop() {
    await work.stop();
  },
});
