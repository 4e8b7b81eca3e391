/**
 * The yield point (src/yield-point.ts), on a clock the test moves: work that calls it between
 * steps lets the event loop run (a callback queued at the start runs before the work ends) once
 * the work has held the loop for its budget, and not before.
 */
import { describe, expect, it } from 'vitest';
import { createYieldPoint } from '../src/yield-point.js';

/**
 * Runs `steps` synchronous steps that each take `stepMs` on the test's clock, awaiting `between`
 * (made with that clock) before each; returns how many steps had run when a callback queued at
 * the start ran.
 */
async function stepsBeforeTheLoopRan(steps: number, stepMs: number, between: (clock: () => number) => () => Promise<void>): Promise<number | undefined> {
  let time = 0;
  const pause = between(() => time);
  let done = 0;
  let ranAfter: number | undefined;
  setImmediate(() => (ranAfter = done));
  for (let i = 0; i < steps; i++) {
    await pause();
    time += stepMs;
    done++;
  }
  await new Promise((resolve) => setImmediate(resolve));
  return ranAfter;
}

describe('yield point', () => {
  it('lets the event loop run once the work has held it for the budget', async () => {
    // Steps of 2 ms with a 10 ms budget: the loop runs before the sixth step, after five.
    expect(await stepsBeforeTheLoopRan(40, 2, (clock) => createYieldPoint(10, clock))).toBe(5);
  });

  it('without it, awaiting settled promises never lets the loop run (the stall it fixes)', async () => {
    expect(await stepsBeforeTheLoopRan(40, 2, () => async () => {})).toBe(40);
  });

  it('does not yield within the budget', async () => {
    expect(await stepsBeforeTheLoopRan(20, 1, (clock) => createYieldPoint(1000, clock))).toBe(20);
  });
});
