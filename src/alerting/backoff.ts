/**
 * When a failed delivery is tried again: 10 s, 20 s, 40 s … doubling up to one hour between
 * attempts, and no attempt once the message is more than a day old (it is marked failed, and
 * shows as such in the API). Deterministic, so tests can step a fake clock to each attempt.
 */
export const FIRST_RETRY_MS = 10_000;
export const MAX_RETRY_GAP_MS = 3_600_000;
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

/** The wait after the given attempt (1 = the first) failed. */
export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_GAP_MS, FIRST_RETRY_MS * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

/** The time of the next attempt, or null when the message has run out of time. */
export function nextAttemptAt(createdAt: number, attempts: number, now: number): number | null {
  const next = now + retryDelayMs(attempts);
  return next <= createdAt + GIVE_UP_AFTER_MS ? next : null;
}
