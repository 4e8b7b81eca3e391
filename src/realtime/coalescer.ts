/**
 * Coalescing for one subscription: the first event of a key (a monitor, a series) goes out at
 * once; the ones that follow within the interval are held, and only the latest is sent when the
 * interval ends. One timer per subscription (not per key) sweeps the held values, so a busy
 * subscription costs one timer whatever the number of keys. Time comes from a Scheduler, so
 * tests move it by hand.
 */
import type { CoalesceKey } from './topics.js';

export interface Scheduler {
  now(): number;
  /** Returns a function that cancels the call. */
  schedule(callback: () => void, delayMs: number): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/**
 * Per key, when it was last sent (`sentAt`) and, if something came since, the latest value
 * (`held`). Two maps rather than an object per key: every result of a minute-interval monitor is
 * a new key for the subscription, and those objects were a third of the realtime path's cost
 * (bench:realtime profile). `sentAt` is kept in the order the keys were sent (a key sent again
 * goes to the end), so a sweep stops at the first key still within its interval; times are
 * relative to the coalescer's creation, small integers that V8 stores without an allocation.
 */
export function createCoalescer<T>(intervalMs: number, scheduler: Scheduler, send: (value: T) => void) {
  const epoch = scheduler.now();
  const sentAt = new Map<CoalesceKey, number>();
  const held = new Map<CoalesceKey, T>();
  let cancel: (() => void) | undefined;

  function arm(): void {
    if (!cancel && sentAt.size > 0) cancel = scheduler.schedule(sweep, intervalMs);
  }

  function sweep(): void {
    cancel = undefined;
    const now = scheduler.now() - epoch;
    for (const [key, at] of sentAt) {
      if (now - at < intervalMs) break; // the rest were sent later
      sentAt.delete(key);
      if (!held.has(key)) continue;
      const value = held.get(key) as T;
      held.delete(key);
      sentAt.set(key, now); // at the end: this loop stops when it comes to it
      send(value);
    }
    arm();
  }

  return {
    offer(key: CoalesceKey, value: T): void {
      if (sentAt.has(key)) {
        held.set(key, value);
        return;
      }
      sentAt.set(key, scheduler.now() - epoch);
      send(value);
      arm();
    },
    stop(): void {
      cancel?.();
      cancel = undefined;
      sentAt.clear();
      held.clear();
    },
  };
}
