/**
 * The one state machine of every monitor kind, as the pure function `applyResult`: thresholds,
 * recovery, warning levels and pause. The database side (flips, incidents, compare-and-set) is
 * in monitor-core.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { MonitorState, ResultStatus } from '../src/monitors/kinds.js';
import { applyResult, type MonitorCounters, type Thresholds, type Transition } from '../src/monitors/state-machine.js';

const fresh = (state: MonitorState = 'pending'): MonitorCounters => ({ state, consecutiveFailures: 0, consecutiveSuccesses: 0 });

/** Feeds results one by one and returns every transition, as a worker recording them would. */
function run(start: MonitorCounters, statuses: ResultStatus[], thresholds: Thresholds): Transition[] {
  const steps: Transition[] = [];
  let current = start;
  for (const status of statuses) {
    const next = applyResult(current, status, thresholds);
    steps.push(next);
    current = { state: next.state, consecutiveFailures: next.consecutiveFailures, consecutiveSuccesses: next.consecutiveSuccesses };
  }
  return steps;
}

const flips = (steps: Transition[]) => steps.map((s) => s.flipTo ?? null);
const states = (steps: Transition[]) => steps.map((s) => s.state);

describe('applyResult', () => {
  it('a pending monitor goes up on its first success, whatever the recovery threshold', () => {
    expect(applyResult(fresh(), 'up', { failures: 3, recoveries: 1 })).toEqual({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 1, flipTo: 'up' });
    expect(applyResult(fresh(), 'up', { failures: 3, recoveries: 5 })).toEqual({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 1, flipTo: 'up' });
  });

  it('an up monitor that succeeds again stays up without a flip, counting successes', () => {
    const next = applyResult({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 4 }, 'up', { failures: 2, recoveries: 1 });
    expect(next).toEqual({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 5 });
    expect(next.flipTo).toBeUndefined();
  });

  it('goes down on exactly the Nth consecutive failure, and not before', () => {
    const steps = run(fresh('up'), ['down', 'down', 'down', 'down'], { failures: 3, recoveries: 1 });
    expect(states(steps)).toEqual(['up', 'up', 'down', 'down']);
    expect(flips(steps)).toEqual([null, null, 'down', null]);
    expect(steps.map((s) => s.consecutiveFailures)).toEqual([1, 2, 3, 4]);
    expect(steps.every((s) => s.consecutiveSuccesses === 0)).toBe(true);
  });

  it('a pending monitor also needs N failures to go down', () => {
    const steps = run(fresh('pending'), ['down', 'down'], { failures: 2, recoveries: 1 });
    expect(states(steps)).toEqual(['pending', 'down']);
    expect(flips(steps)).toEqual([null, 'down']);
  });

  it('with a threshold of 1 the first failure flips', () => {
    expect(applyResult(fresh('up'), 'down', { failures: 1, recoveries: 1 })).toEqual({ state: 'down', consecutiveFailures: 1, consecutiveSuccesses: 0, flipTo: 'down' });
  });

  it('fewer failures than the threshold leave the state alone', () => {
    const steps = run(fresh('up'), ['down', 'down', 'down', 'down'], { failures: 5, recoveries: 1 });
    expect(states(steps)).toEqual(['up', 'up', 'up', 'up']);
    expect(flips(steps)).toEqual([null, null, null, null]);
  });

  it('a success resets the failure count, so failures must be consecutive', () => {
    const steps = run(fresh('up'), ['down', 'down', 'up', 'down', 'down', 'down'], { failures: 3, recoveries: 1 });
    expect(steps.map((s) => s.consecutiveFailures)).toEqual([1, 2, 0, 1, 2, 3]);
    expect(steps.map((s) => s.consecutiveSuccesses)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(flips(steps)).toEqual([null, null, null, null, null, 'down']);
  });

  it('warning results count as failures and move the monitor to warning', () => {
    const steps = run(fresh('up'), ['warning', 'warning'], { failures: 2, recoveries: 1 });
    expect(states(steps)).toEqual(['up', 'warning']);
    expect(flips(steps)).toEqual([null, 'warning']);
    // A mix of levels counts towards the same threshold; the last result's level wins.
    const mixed = run(fresh('up'), ['down', 'warning', 'down'], { failures: 3, recoveries: 1 });
    expect(flips(mixed)).toEqual([null, null, 'down']);
    const mixedWarning = run(fresh('up'), ['down', 'down', 'warning'], { failures: 3, recoveries: 1 });
    expect(flips(mixedWarning)).toEqual([null, null, 'warning']);
  });

  it('while failing, down and warning move to each other at once, without a new threshold', () => {
    const steps = run({ state: 'warning', consecutiveFailures: 3, consecutiveSuccesses: 0 }, ['down', 'warning', 'warning', 'down'], { failures: 3, recoveries: 1 });
    expect(states(steps)).toEqual(['down', 'warning', 'warning', 'down']);
    expect(flips(steps)).toEqual(['down', 'warning', null, 'down']);
    expect(steps.map((s) => s.consecutiveFailures)).toEqual([4, 5, 6, 7]);
  });

  it('a down monitor comes back up after M consecutive successes', () => {
    const steps = run({ state: 'down', consecutiveFailures: 4, consecutiveSuccesses: 0 }, ['up', 'up', 'up'], { failures: 2, recoveries: 3 });
    expect(states(steps)).toEqual(['down', 'down', 'up']);
    expect(flips(steps)).toEqual([null, null, 'up']);
    expect(steps.map((s) => s.consecutiveSuccesses)).toEqual([1, 2, 3]);
    expect(steps.every((s) => s.consecutiveFailures === 0)).toBe(true);
  });

  it('a warning monitor recovers the same way', () => {
    const steps = run({ state: 'warning', consecutiveFailures: 2, consecutiveSuccesses: 0 }, ['up', 'up'], { failures: 2, recoveries: 2 });
    expect(flips(steps)).toEqual([null, 'up']);
  });

  it('a failure during recovery starts the recovery count again, and stays down without a new flip', () => {
    const steps = run({ state: 'down', consecutiveFailures: 5, consecutiveSuccesses: 0 }, ['up', 'down', 'up', 'up'], { failures: 3, recoveries: 2 });
    expect(states(steps)).toEqual(['down', 'down', 'down', 'up']);
    expect(flips(steps)).toEqual([null, null, null, 'up']);
    expect(steps.map((s) => s.consecutiveSuccesses)).toEqual([1, 0, 1, 2]);
    expect(steps.map((s) => s.consecutiveFailures)).toEqual([0, 1, 0, 0]);
  });

  it('after recovery it takes N failures again to go down', () => {
    const steps = run({ state: 'down', consecutiveFailures: 2, consecutiveSuccesses: 0 }, ['up', 'down', 'down'], { failures: 2, recoveries: 1 });
    expect(flips(steps)).toEqual(['up', null, 'down']);
  });

  it('a paused monitor ignores every result: no counters move, no flip', () => {
    const paused: MonitorCounters = { state: 'paused', consecutiveFailures: 0, consecutiveSuccesses: 0 };
    for (const status of ['up', 'down', 'warning'] as const) {
      const next = applyResult(paused, status, { failures: 1, recoveries: 1 });
      expect(next).toEqual(paused);
      expect(next.flipTo).toBeUndefined();
    }
  });

  it('does not change the counters it is given', () => {
    const current: MonitorCounters = { state: 'up', consecutiveFailures: 1, consecutiveSuccesses: 0 };
    applyResult(current, 'down', { failures: 2, recoveries: 1 });
    expect(current).toEqual({ state: 'up', consecutiveFailures: 1, consecutiveSuccesses: 0 });
  });
});
