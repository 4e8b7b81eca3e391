/**
 * One piece of work per key at a time in this process, in arrival order; different keys run side
 * by side. Shared by the writers that must not overlap on one thing (a slug being created, an
 * agent's STATUS.json being rewritten); a failure of one does not stop the next.
 */
export function keyedSerial() {
  const tails = new Map<string, Promise<unknown>>();
  return function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const result = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    // The map holds only keys with work queued: the last one out removes its key.
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
