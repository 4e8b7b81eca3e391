/**
 * Runs one check of one monitor, through the checker of its kind, and records the result.
 * Used by the scheduler's jobs and by "check now" routes alike.
 */
import type { Checker } from './checker.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { MonitorKind } from './kinds.js';
import type { RecordedResult, ResultRecorder } from './results.service.js';
import type { CheckJob } from './scheduler.js';

export interface CheckRunnerOptions {
  db: Db;
  clock: Clock;
  /** One per active kind (kinds/registry.ts). */
  checkers: readonly Checker[];
  recorder: ResultRecorder;
  /** Told how late each scheduled check started (ms), for benchmarks and /metrics. */
  onLag?: (lagMs: number) => void;
  /** Told of each check that produced a result, with its monitor's kind, for /metrics. */
  onRun?: (kind: string, status: string) => void;
}

export function createCheckRunner({ db, clock, checkers, recorder, onLag, onRun }: CheckRunnerOptions) {
  const byKind = new Map(checkers.map((checker) => [checker.kind, checker]));
  async function runNow(monitorId: string): Promise<RecordedResult | undefined> {
    const monitor = await db.selectFrom('monitors').select('kind').where('id', '=', monitorId).executeTakeFirst();
    const checker = monitor && byKind.get(monitor.kind as MonitorKind);
    if (!checker) return undefined;
    const outcome = await checker.check(monitorId);
    if (outcome) onRun?.(monitor.kind, outcome.status);
    return outcome && recorder.record(monitorId, outcome);
  }

  return {
    runNow,
    /** The job handler for scheduled checks. */
    async runScheduled(job: CheckJob): Promise<void> {
      onLag?.(clock.now() - job.dueAt);
      await runNow(job.monitorId);
    },
  };
}

export type CheckRunner = ReturnType<typeof createCheckRunner>;
