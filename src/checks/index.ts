/** The registry of checkers, one per active kind. Passive kinds (heartbeat, machine…) have none. */
import type { MonitorKind } from '../monitors/kinds.js';
import type { SelfProbeRegistry } from '../self-monitoring/probes/index.js';
import { createSelfChecker } from '../self-monitoring/self.checker.js';
import type { Checker, CheckerContext } from './checker.js';
import { createHttpChecker } from './http/http.checker.js';

export type CheckerRegistry = Partial<Record<MonitorKind, Checker>>;

/** What some checkers need beyond the context: the self probes, which know this process's parts. */
export interface CheckerParts {
  readonly selfProbes: SelfProbeRegistry;
}

export function createCheckers(context: CheckerContext, parts: CheckerParts): CheckerRegistry {
  const checkers: Checker[] = [createHttpChecker(context), createSelfChecker(context, parts.selfProbes)];
  return Object.fromEntries(checkers.map((checker) => [checker.kind, checker]));
}

export type { Checker, CheckerContext };
