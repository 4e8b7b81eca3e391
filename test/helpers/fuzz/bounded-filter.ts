/**
 * `arbitrary.filter(keep)` with a bound. fast-check's own filter draws until a value passes, so
 * a filter no value can pass (a schema whose pattern only matches strings longer than its
 * maxLength) spins forever and hangs the suite; this one gives up after `attempts` draws in a row
 * and throws `reason()`, which names what could not be generated.
 */
import fc from 'fast-check';

/** Draws in a row without a value kept before giving up: far more than any satisfiable filter here needs. */
export const FILTER_ATTEMPTS = 1000;

class BoundedFilter<T> extends fc.Arbitrary<T> {
  constructor(
    private readonly source: fc.Arbitrary<T>,
    private readonly keep: (value: T) => boolean,
    private readonly reason: () => string,
    private readonly attempts: number,
  ) {
    super();
  }

  generate(random: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const drawn = this.source.generate(random, biasFactor);
      if (this.keep(drawn.value)) return drawn;
    }
    throw new Error(`${this.reason()} (none of ${this.attempts} values drawn in a row was kept)`);
  }

  canShrinkWithoutContext(value: unknown): value is T {
    return this.source.canShrinkWithoutContext(value) && this.keep(value);
  }

  shrink(value: T, context: unknown): fc.Stream<fc.Value<T>> {
    return this.source.shrink(value, context).filter((shrunk) => this.keep(shrunk.value));
  }
}

export function boundedFilter<T>(source: fc.Arbitrary<T>, keep: (value: T) => boolean, reason: () => string, attempts = FILTER_ATTEMPTS): fc.Arbitrary<T> {
  return new BoundedFilter(source, keep, reason, attempts);
}
