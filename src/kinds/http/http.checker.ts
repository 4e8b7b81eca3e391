import type { Checker, CheckerContext } from '../../monitors/checker.js';
import { findHttpTargetForCheck } from './http-targets.repository.js';
import { createConnectors, probeHttp } from './probe.js';

export function createHttpChecker({ db, clock }: CheckerContext): Checker {
  const connectors = createConnectors();
  return {
    kind: 'http',
    async check(monitorId) {
      const target = await findHttpTargetForCheck(db, monitorId);
      return target && probeHttp(target, () => clock.now(), connectors);
    },
  };
}
