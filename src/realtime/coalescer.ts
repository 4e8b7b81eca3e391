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

interface Entry<T> {
  sentAt: number;
  held: T | undefined;
}

export function createCoalescer<T>(intervalMs: number, scheduler: Scheduler, send: (value: T) => void) {
  const entries = new Map<CoalesceKey, Entry<T>>();
  let cancel: (() => void) | undefined;

  function arm(): void {
    if (!cancel && entries.size > 0) cancel = scheduler.schedule(sweep, intervalMs);
  }

  function sweep(): void {
    cancel = undefined;
    const now = scheduler.now();
    for (const [key, entry] of entries) {
      if (now - entry.sentAt < intervalMs) continue;
      if (entry.held === undefined) {
        entries.delete(key);
        continue;
      }
      const value = entry.held;
      entry.held = undefined;
      entry.sentAt = now;
      send(value);
    }
    arm();
  }

  return {
    offer(key: CoalesceKey, value: T): void {
      const entry = entries.get(key);
      if (entry === undefined) {
        entries.set(key, { sentAt: scheduler.now(), held: undefined });
        send(value);
        arm();
        return;
      }
      entry.held = value;
    },
    stop(): void {
      cancel?.();
      cancel = undefined;
      entries.clear();
    },
  };
}
