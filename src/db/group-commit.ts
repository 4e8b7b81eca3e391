/**
 * Group commit: items (pings, ingest batches) wait in a queue and are written several per
 * transaction, each item settled only once its transaction has committed. The hot write paths
 * share this so that a burst of thousands of items costs a few commits, not one each.
 *
 * The next transaction starts from setImmediate, once the event loop has read every request
 * waiting: on SQLite a transaction runs synchronously to its commit (an fsync of a few ms), so
 * starting it from the first request's handler gave nearly every item a commit of its own — the
 * requests that arrived meanwhile were only read after it.
 */
export interface GroupCommitOptions<T> {
  /** Writes one transaction's items and settles each of them; never rejects. */
  write(items: T[]): Promise<void>;
  /** How many of the queued items the next transaction takes (at least 1). */
  take(queue: readonly T[]): number;
}

export function createGroupCommit<T>({ write, take }: GroupCommitOptions<T>) {
  let queue: T[] = [];
  let writing: Promise<void> | undefined;
  let scheduled: NodeJS.Immediate | undefined;

  function schedule(): void {
    if (scheduled || writing || queue.length === 0) return;
    scheduled = setImmediate(() => {
      scheduled = undefined;
      drain();
    });
  }

  function drain(): void {
    if (writing || queue.length === 0) return;
    const n = Math.max(1, take(queue));
    const items = queue.slice(0, n);
    queue = queue.slice(n);
    writing = write(items).finally(() => {
      writing = undefined;
      schedule();
    });
  }

  return {
    push(item: T): void {
      queue.push(item);
      schedule();
    },
    /** Writes what is queued now, without waiting for the next turn of the loop (shutdown). */
    async flush(): Promise<void> {
      while (writing || queue.length) {
        if (!writing) {
          clearImmediate(scheduled);
          scheduled = undefined;
          drain();
        }
        await writing;
      }
    },
  };
}

/** `take` for a queue whose items count alike: up to `max` per transaction. */
export const upTo =
  (max: number) =>
  (queue: readonly unknown[]): number =>
    Math.min(max, queue.length);
