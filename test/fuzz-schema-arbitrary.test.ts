/**
 * The fuzz helper's strings (test/helpers/fuzz/schema-arbitrary.ts): a pattern whose matches need
 * more than 40 characters, with no maxLength, is generated at the length it needs; a declared
 * maxLength still bounds a pattern; a schema no string satisfies fails at once with an error naming
 * the schema. Values are drawn from a random generator with a budget of draws: the helper's old
 * endless loop never yields, so vitest's timeout could not stop it, and the budget makes it fail
 * the test instead of hanging the suite.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaArbitrary, type Schema } from './helpers/fuzz/schema-arbitrary.js';

/** More than any sample below needs (50 values of 100 characters take about 20,000). */
const DRAW_BUDGET = 2_000_000;

/** A 32-bit generator (mulberry32) that throws once it and its clones have drawn `budget` numbers. */
class BudgetedRandom {
  constructor(
    private state: number,
    private readonly drawn: { count: number; budget: number },
  ) {}

  clone(): BudgetedRandom {
    return new BudgetedRandom(this.state, this.drawn);
  }

  next(): [number, BudgetedRandom] {
    const copy = this.clone();
    return [copy.unsafeNext(), copy];
  }

  unsafeNext(): number {
    if (++this.drawn.count > this.drawn.budget) throw new Error(`more than ${this.drawn.budget} random draws: the generator does not terminate`);
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) | 0;
  }

  getState(): readonly number[] {
    return [this.state];
  }
}

const resolve = (schema: Schema) => schema;

/** `count` values of `schema` (fuzzing off: valid values only), within the draw budget. */
function sample(schema: Schema, count = 50): unknown[] {
  const drawn = { count: 0, budget: DRAW_BUDGET };
  return fc.sample(schemaArbitrary(schema, { resolve, fuzz: false }), { numRuns: count, seed: 7, randomType: (seed) => new BudgetedRandom(seed, drawn) });
}

describe('strings of the fuzz helper', () => {
  it('generates a 64-character SHA-256 pattern with no maxLength, matches only', { timeout: 10_000 }, () => {
    const values = sample({ type: 'string', pattern: '^[0-9a-f]{64}$' });
    expect(values).toHaveLength(50);
    for (const value of values) expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it('generates a pattern of 41 to 100 characters at its lengths, and within a minLength', { timeout: 10_000 }, () => {
    for (const value of sample({ type: 'string', pattern: '^[a-z]{41,100}$' })) expect(value).toMatch(/^[a-z]{41,100}$/);
    for (const value of sample({ type: 'string', pattern: '^[a-z]{41,100}$', minLength: 90 })) expect(value).toMatch(/^[a-z]{90,100}$/);
  });

  it('still holds a pattern to a declared maxLength, and inside an object', { timeout: 10_000 }, () => {
    for (const value of sample({ type: 'string', pattern: '^[a-z]+$', maxLength: 5 })) expect(value).toMatch(/^[a-z]{1,5}$/);
    const objects = sample({ type: 'object', properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['sha256'] }) as { sha256: string }[];
    for (const object of objects) expect(object.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a schema no string satisfies fails at once, naming the schema', { timeout: 10_000 }, () => {
    const impossible = { type: 'string', pattern: '^[0-9a-f]{64}$', maxLength: 40 };
    expect(() => sample(impossible)).toThrow(
      /^no string of 0 to 40 characters could be generated for the schema \{"type":"string","pattern":"\^\[0-9a-f\]\{64\}\$","maxLength":40\} \(none of 1000 values drawn in a row was kept\)$/,
    );
  });
});
