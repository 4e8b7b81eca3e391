/**
 * Scheduling lag of checks (actual start − due time), summarised per period: the figure that
 * says whether the scheduler keeps up. The server logs one summary a minute.
 */
import { percentile } from './rollups.js';

export interface LagSummary {
  checks: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function createLagStats() {
  let samples: number[] = [];
  return {
    record(lagMs: number): void {
      samples.push(Math.max(0, lagMs));
    },
    /** The summary since the last call, which starts a new period. */
    takeSummary(): LagSummary {
      const sorted = samples.sort((a, b) => a - b);
      samples = [];
      return { checks: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? null };
    },
  };
}

export type LagStats = ReturnType<typeof createLagStats>;
