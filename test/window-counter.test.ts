/**
 * The fixed-window counter behind the ping rate limits: the limit per key and window, windows
 * aligned on the clock (every key starts afresh at the boundary), `exceeded` counting nothing, a
 * bounded number of keys, and 0 meaning no limit.
 */
import { describe, expect, it } from 'vitest';
import { createWindowCounter } from '../src/http/window-counter.js';

const MINUTE = 60_000;

function counter(limit: number, options: { start?: number; maxKeys?: number } = {}) {
  let now = options.start ?? Date.UTC(2026, 10, 22, 10, 0, 0);
  const counts = createWindowCounter({ limit, windowMs: MINUTE, now: () => now, maxKeys: options.maxKeys });
  return { counts, advance: (ms: number) => (now += ms) };
}

describe('window counter', () => {
  it('allows `limit` hits per key, then answers the seconds left in the window', () => {
    const { counts, advance } = counter(3);
    advance(15_000); // 45 s left in this minute
    expect([counts.hit('a'), counts.hit('a'), counts.hit('a')]).toEqual([0, 0, 0]);
    expect(counts.hit('a')).toBe(45);
    expect(counts.hit('b')).toBe(0); // each key its own count
    advance(44_500);
    expect(counts.hit('a')).toBe(1); // half a second left: rounded up, never 0
  });

  it('starts every key afresh when the clock passes the window boundary', () => {
    const { counts, advance } = counter(1);
    advance(59_000);
    expect(counts.hit('a')).toBe(0);
    expect(counts.hit('a')).toBe(1);
    advance(1_000); // the next minute, one second later
    expect(counts.hit('a')).toBe(0);
    expect(counts.hit('a')).toBe(60);
  });

  it('exceeded() tells without counting', () => {
    const { counts } = counter(2);
    expect(counts.exceeded('a')).toBe(0);
    expect(counts.exceeded('a')).toBe(0);
    counts.hit('a');
    expect(counts.exceeded('a')).toBe(0);
    counts.hit('a');
    expect(counts.exceeded('a')).toBe(60);
  });

  it('tracks at most maxKeys keys a window; new keys past that pass uncounted, counted ones keep their limit', () => {
    const { counts, advance } = counter(1, { maxKeys: 2 });
    counts.hit('a');
    counts.hit('b');
    expect([counts.hit('c'), counts.hit('c'), counts.hit('c')]).toEqual([0, 0, 0]);
    expect(counts.hit('a')).toBeGreaterThan(0);
    advance(MINUTE);
    counts.hit('c');
    expect(counts.hit('c')).toBeGreaterThan(0); // room again in the new window
  });

  it('a limit of 0 never refuses', () => {
    const { counts } = counter(0);
    for (let i = 0; i < 1000; i++) expect(counts.hit('a')).toBe(0);
    expect(counts.exceeded('a')).toBe(0);
  });
});
