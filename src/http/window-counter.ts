/**
 * Rate limits counted in memory, per process, in fixed windows aligned on the clock: every key's
 * window starts and ends at the same time, so the whole bookkeeping is one Map cleared at each
 * boundary, and a hit costs one lookup (it sits on the ping path, the hottest of the server).
 * The price of fixed windows is that a client may spend two windows' worth across a boundary;
 * for a limit meant to stop runaway loops and floods, not to meter, that is acceptable.
 *
 * Several web processes (PostgreSQL mode) each count on their own: a limit holds per process.
 */

export interface WindowCounterOptions {
  /** Events allowed per key and window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  now: () => number;
  /**
   * Keys tracked at most in one window. Once full, new keys pass uncounted until the window
   * ends: a flood of distinct keys (forged ids, many addresses) cannot grow memory without bound,
   * and the keys already counted keep their limits.
   */
  maxKeys?: number;
}

export interface WindowCounter {
  /** Counts one event for `key`: 0 when it is within the limit, else the seconds until the window ends. */
  hit(key: string): number;
  /** Without counting: 0 while `key` is within the limit, else the seconds until the window ends. */
  exceeded(key: string): number;
}

const UNLIMITED: WindowCounter = { hit: () => 0, exceeded: () => 0 };

export function createWindowCounter({ limit, windowMs, now, maxKeys = 100_000 }: WindowCounterOptions): WindowCounter {
  if (limit <= 0) return UNLIMITED;
  const counts = new Map<string, number>();
  let windowEnd = 0;

  /** Starts a new window when the clock has passed the current one's end; the seconds left in it. */
  function secondsLeft(): number {
    const at = now();
    if (at >= windowEnd) {
      counts.clear();
      windowEnd = (Math.floor(at / windowMs) + 1) * windowMs;
    }
    return Math.max(1, Math.ceil((windowEnd - at) / 1000));
  }

  return {
    hit(key) {
      const left = secondsLeft();
      const count = counts.get(key);
      if (count === undefined) {
        if (counts.size < maxKeys) counts.set(key, 1);
        return 0;
      }
      if (count >= limit) return left;
      counts.set(key, count + 1);
      return 0;
    },
    exceeded(key) {
      const left = secondsLeft();
      return (counts.get(key) ?? 0) >= limit ? left : 0;
    },
  };
}
