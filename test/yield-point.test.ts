/**
 * The yield point (src/yield-point.ts): synchronous work that calls it between steps lets the
 * event loop run (a queued callback runs before the work ends) once the work has held the loop
 * for its budget, and does not yield before that.
 */
import { describe, expect, it } from 'vitest';
import { createYieldPoint } from '../src/yield-point.js';

/** Holds the loop for `ms` (what a synchronous SQLite query does). */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** Runs `steps` steps of `stepMs` with `between` awaited between them; how many steps had run when a callback queued at the start ran. */
async function stepsBeforeTheLoopRan(steps: number, stepMs: number, between: () => Promise<void>): Promise<number | undefined> {
  let done = 0;
  let ranAfter: number | undefined;
  setImmediate(() => (ranAfter = done));
  for (let i = 0; i < steps; i++) {
    await between();
    busy(stepMs);
    done++;
  }
  await new Promise((resolve) => setImmediate(resolve));
  return ranAfter;
}

describe('yield point', () => {
  it('lets the event loop run once the work has held it for the budget', async () => {
    // 40 steps of 2 ms with a 10 ms budget: the queued callback runs after about 5 steps, not after all 40.
    const ranAfter = await stepsBeforeTheLoopRan(40, 2, createYieldPoint(10));
    expect(ranAfter).toBeGreaterThanOrEqual(4);
    expect(ranAfter).toBeLessThan(40);
  });

  it('without it, awaiting settled promises never lets the loop run (the stall it fixes)', async () => {
    expect(await stepsBeforeTheLoopRan(40, 2, async () => {})).toBe(40);
  });

  it('does not yield within the budget', async () => {
    expect(await stepsBeforeTheLoopRan(20, 0.01, createYieldPoint(1000))).toBe(20);
  });
});
