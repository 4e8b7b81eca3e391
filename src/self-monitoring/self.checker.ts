/**
 * The checker of kind `self`: runs the probe of the service a self check watches, so its result
 * goes through the monitor core (flips, incidents, alerts) like any check's. A service this
 * process cannot check (Redis after REDIS_URL was removed) gives no result: the check keeps its
 * state rather than fail for a part that is not there.
 */
import type { Checker, CheckerContext } from '../monitors/checker.js';
import type { SelfProbeRegistry } from './probes/index.js';
import { serviceOfSelfCheck } from './self-checks.repository.js';

export function createSelfChecker({ db }: CheckerContext, probes: SelfProbeRegistry): Checker {
  return {
    kind: 'self',
    async check(monitorId) {
      const service = await serviceOfSelfCheck(db, monitorId);
      const probe = service && probes[service];
      if (!probe?.available()) return undefined;
      const reading = await probe.run();
      return { status: reading.status, latencyMs: reading.latencyMs, message: reading.message };
    },
  };
}
