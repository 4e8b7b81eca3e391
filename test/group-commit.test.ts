/**
 * The group-commit queue (src/db/group-commit.ts) behind the ping and ingest writers: items that
 * arrive in one turn of the event loop share a transaction (the first one does not start a
 * transaction of its own), items arriving while one is written wait for the next, `take` bounds
 * a transaction, and flush writes at once what is queued.
 */
import { describe, expect, it } from 'vitest';
import { createGroupCommit, upTo } from '../src/db/group-commit.js';

function recorder(take = upTo(100)) {
  const writes: number[][] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const commits = createGroupCommit<number>({
    take,
    write: async (items) => {
      writes.push(items);
      if (hold) await new Promise<void>((resolve) => (release = resolve));
    },
  });
  return {
    commits,
    writes,
    holdNext: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('gives the items of one turn of the event loop one transaction', async () => {
    const { commits, writes } = recorder();
    for (let i = 1; i <= 5; i++) commits.push(i);
    expect(writes).toEqual([]); // nothing started from the first push
    await nextTurn();
    expect(writes).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('items pushed while a transaction is written go together into the next', async () => {
    const { commits, writes, holdNext, release } = recorder();
    holdNext();
    commits.push(1);
    await nextTurn();
    expect(writes).toEqual([[1]]);
    commits.push(2);
    commits.push(3);
    await nextTurn();
    expect(writes).toEqual([[1]]); // still writing the first
    release();
    await commits.flush();
    expect(writes).toEqual([[1], [2, 3]]);
  });

  it('take bounds a transaction; flush writes everything without waiting for the loop', async () => {
    const { commits, writes } = recorder(upTo(2));
    for (let i = 1; i <= 5; i++) commits.push(i);
    await commits.flush();
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
    await commits.flush(); // nothing left: returns at once
    expect(writes).toHaveLength(3);
  });

  it('a take that answers 0 still takes one item, so the queue cannot stall', async () => {
    const { commits, writes } = recorder(() => 0);
    commits.push(7);
    commits.push(8);
    await commits.flush();
    expect(writes).toEqual([[7], [8]]);
  });
});
