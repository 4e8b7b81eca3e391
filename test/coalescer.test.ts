/**
 * The coalescer on a manual clock (interval 1,000 ms): each key's first value goes at once; what
 * follows within its interval is held and only the latest goes when the interval has passed (at
 * the sweep after it); a key quiet for an interval goes at once again. Keys sent at different
 * times keep their own intervals, including a key sent again by a sweep.
 */
import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../src/realtime/coalescer.js';
import { ManualScheduler } from './helpers/realtime.js';

function setUp() {
  const scheduler = new ManualScheduler();
  scheduler.advance(1_800_000_000_000); // a wall-clock-like start: times inside are kept relative
  const sent: [number, string][] = [];
  const coalescer = createCoalescer<string>(1000, scheduler, (value) => sent.push([scheduler.now() % 100_000, value]));
  return { scheduler, sent, coalescer };
}

describe('coalescer', () => {
  it('sends the first value at once and the latest of the interval when it ends', () => {
    const { scheduler, sent, coalescer } = setUp();
    coalescer.offer('a', 'a1');
    coalescer.offer('a', 'a2');
    coalescer.offer('a', 'a3');
    expect(sent).toEqual([[0, 'a1']]);
    scheduler.advance(999);
    expect(sent).toEqual([[0, 'a1']]);
    scheduler.advance(1);
    expect(sent).toEqual([
      [0, 'a1'],
      [1000, 'a3'],
    ]);
    // Sent again at 1000 by the sweep: a value at 1500 waits for 2000.
    scheduler.advance(500);
    coalescer.offer('a', 'a4');
    scheduler.advance(499);
    expect(sent.length).toBe(2);
    scheduler.advance(1);
    expect(sent.at(-1)).toEqual([2000, 'a4']);
    // Quiet for a whole interval: the next value goes at once.
    scheduler.advance(3000);
    coalescer.offer('a', 'a5');
    expect(sent.at(-1)).toEqual([5000, 'a5']);
  });

  it('keeps each key on its own interval, and stops', () => {
    const { scheduler, sent, coalescer } = setUp();
    coalescer.offer(1, 's1');
    scheduler.advance(600);
    coalescer.offer('m', 'm1');
    coalescer.offer(1, 's2');
    coalescer.offer('m', 'm2');
    expect(sent).toEqual([
      [0, 's1'],
      [600, 'm1'],
    ]);
    // The sweep at 1000 sends key 1 (sent at 0), not m (sent at 600, its interval runs to 1600).
    scheduler.advance(400);
    expect(sent.at(-1)).toEqual([1000, 's2']);
    scheduler.advance(1000);
    expect(sent.at(-1)).toEqual([2000, 'm2']);
    expect(sent.length).toBe(4);
    coalescer.offer(1, 's3');
    coalescer.offer(1, 's4');
    coalescer.stop();
    scheduler.advance(10_000);
    expect(sent.at(-1)).toEqual([2000, 's3']);
  });
});
