/** The registry of checkers, one per active kind. Passive kinds (heartbeat, machine…) have none. */
import type { MonitorKind } from '../monitors/kinds.js';
import type { Checker, CheckerContext } from './checker.js';
import { createHttpChecker } from './http/http.checker.js';

export type CheckerRegistry = Partial<Record<MonitorKind, Checker>>;

export function createCheckers(context: CheckerContext): CheckerRegistry {
  const checkers: Checker[] = [createHttpChecker(context)];
  return Object.fromEntries(checkers.map((checker) => [checker.kind, checker]));
}

export type { Checker, CheckerContext };
