/**
 * The scheduler self probe: are due checks claimed on time? Two measures, the worse one counts:
 * - the oldest due check nobody has claimed yet (read from the database, so it also catches a
 *   scheduler that stopped altogether, which leaves no lag to measure; across all tenants, as
 *   the scheduler itself reads, and it returns a single time, no tenant's rows);
 * - the worst claim lag of the last 5 minutes in this process (queue-watch.ts), when background
 *   work runs here.
 * The scheduler claims due checks every 100 ms, so lateness of seconds already means trouble:
 * a warning past 30 s, down past 2 min (seed 002's grace for its tier-1 services).
 */
import type { ProbeEnvironment } from '../environment.js';
import { combine, describeDuration, gradeAge, type AgeThresholds, type SelfProbe } from '../probe.js';

export const CLAIM_LAG: AgeThresholds = { warningMs: 30_000, downMs: 120_000 };

export function schedulerSelfProbe(env: ProbeEnvironment): SelfProbe {
  return {
    service: 'scheduler',
    title: 'Vigie scheduler',
    intervalSeconds: 60,
    unavailableReason: '',
    available: () => true,
    async run() {
      const now = env.clock.now();
      const row = await env.db
        .selectFrom('monitors')
        .select((eb) => eb.fn.min('next_due_at').as('oldest'))
        .where('next_due_at', 'is not', null)
        .where('next_due_at', '<=', now)
        .executeTakeFirst();
      const oldest = row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
      const waitingMs = oldest === null ? 0 : now - oldest;
      const findings = [
        {
          status: gradeAge(waitingMs, CLAIM_LAG),
          message: oldest === null ? 'no due check is waiting to be claimed' : `the oldest due check has waited ${describeDuration(waitingMs)} to be claimed`,
        },
      ];
      const worst = env.runtime()?.checkQueue.worstClaimLagMs() ?? null;
      if (worst !== null) findings.push({ status: gradeAge(worst, CLAIM_LAG), message: `checks were claimed at most ${describeDuration(worst)} late in the last 5 min` });
      return combine(findings, 0);
    },
  };
}
