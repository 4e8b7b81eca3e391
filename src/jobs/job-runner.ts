/**
 * Runs named background jobs. Embedded mode runs them in this process (in-process.ts); the
 * scale-out mode will back the same interface with BullMQ queues on Redis. Kept to what both
 * can honour: named handlers with a concurrency limit, fire-and-forget enqueue, a depth gauge
 * for back-pressure, and a clean stop.
 */
export type JobHandler<P> = (payload: P) => Promise<void>;

export interface JobRunner {
  define<P>(name: string, handler: JobHandler<P>, options: { concurrency: number }): void;
  enqueue<P>(name: string, payload: P): Promise<void>;
  /** Jobs of that name waiting or running: producers stop adding work when it is too high. */
  depth(name: string): number;
  /** Resolves when no job is waiting or running (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops taking new jobs and waits for the running ones to finish. */
  stop(): Promise<void>;
}
