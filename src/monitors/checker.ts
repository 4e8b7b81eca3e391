import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { MonitorKind } from '../monitors/kinds.js';
import type { CheckOutcome } from '../monitors/results.service.js';

export interface CheckerContext {
  readonly db: Db;
  readonly clock: Clock;
}

/** One per active kind: runs one check of one monitor. */
export interface Checker {
  readonly kind: MonitorKind;
  /** Undefined when the monitor's settings are gone (deleted while its check was queued). */
  check(monitorId: string): Promise<CheckOutcome | undefined>;
}
