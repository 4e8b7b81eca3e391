/**
 * A run's verdict, written once: the run's state moves by compare-and-set (from the state and
 * claim its caller holds), the job's schedule moves on, and the status becomes the monitor's
 * result through the core recorder, all in one transaction, so alerts flow through the same
 * pipeline as every other kind and a verdict is never recorded twice.
 */
import type { Db } from '../../db/database.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import type { RealtimeEvent } from '../../realtime/topics.js';
import type { BackupJobSettings } from './jobs.repository.js';
import { updateBackupJob } from './jobs.repository.js';
import type { BackupRun } from './runs.repository.js';
import { deadlinesAfter } from './schedule.js';
import { resultStatusOf, type BackupStatus, type RunState } from './statuses.js';

export interface Verdict {
  status: BackupStatus;
  reason: string | null;
  measuredSize: number | null;
  measuredSha256: string | null;
}

const LOG_TAIL_IN_MESSAGE = 600;

const sizeText = (bytes: number | null): string => (bytes === null ? 'unknown' : `${bytes} bytes`);

/** The alert's text: job, status, sizes and hashes first (a notification shows the start), then the agent's log tail. */
export function verdictMessage(
  jobName: string,
  job: Pick<BackupJobSettings, 'agent' | 'database'>,
  run: Pick<BackupRun, 'runId' | 'expectedSize' | 'expectedSha256' | 'logTail' | 'agentMessage'>,
  verdict: Verdict,
): string {
  const lines = [
    `Backup job "${jobName}" (${job.agent}/${job.database}), run ${run.runId}: ${verdict.status}${verdict.reason ? ` — ${verdict.reason}` : ''}`,
    `Size: expected ${sizeText(run.expectedSize)}, measured ${sizeText(verdict.measuredSize)}`,
    `SHA-256 of the manifest: expected ${run.expectedSha256 ?? 'unknown'}, measured ${verdict.measuredSha256 ?? 'unknown'}`,
  ];
  if (run.agentMessage) lines.push(`Agent: ${run.agentMessage}`);
  if (run.logTail) lines.push(`Log tail: ${run.logTail.slice(-LOG_TAIL_IN_MESSAGE)}`);
  return lines.join('\n');
}

export interface JudgeInput {
  run: BackupRun;
  job: BackupJobSettings;
  verdict: Verdict;
  from: RunState;
  to: RunState;
  /** The claim the caller holds; null for a run nobody claims (a MISSING run). */
  claimToken: string | null;
  now: number;
  /** Extra run columns (promotion times…). */
  extra?: Partial<{ validated_at: number; validation_ms: number; promoted_at: number; promotion_ms: number }>;
}

/** Returns whether an alert event was written (the caller wakes the router after commit), or null if the claim was lost. */
export async function judgeRun(trx: Db, recorder: ResultRecorder, input: JudgeInput): Promise<{ alerted: boolean; events: RealtimeEvent[] } | null> {
  const { run, job, verdict, now } = input;
  const streak = verdict.status === 'UNCHANGED' ? job.unchangedStreak + 1 : 0;
  const resultStatus = resultStatusOf(verdict.status, streak, job.allowedUnchangedRuns);
  let update = trx
    .updateTable('backup_runs')
    .set({
      state: input.to,
      status: verdict.status,
      reason: verdict.reason,
      result_status: resultStatus,
      judged_at: now,
      measured_size: verdict.measuredSize,
      measured_sha256: verdict.measuredSha256,
      claim_token: null,
      claim_owner: null,
      claim_expires_at: null,
      ...input.extra,
    })
    .where('id', '=', run.id)
    .where('state', '=', input.from);
  update = input.claimToken === null ? update.where('claim_token', 'is', null) : update.where('claim_token', '=', input.claimToken);
  const won = await update.executeTakeFirst();
  if (won.numUpdatedRows === 0n) return null;

  const monitor = await trx.selectFrom('monitors').select(['name', 'is_active']).where('id', '=', job.monitorId).executeTakeFirst();
  if (!monitor) return { alerted: false, events: [] };
  // The next run is expected from now: a MISSING run moves the deadline on to the next slot, so it alerts once per slot.
  const deadlines = monitor.is_active === 1 ? deadlinesAfter(job, now) : { expectedAt: null, missingAt: null };
  await updateBackupJob(trx, job.tenantId, job.monitorId, { unchangedStreak: streak, ...deadlines, ...(verdict.status !== 'MISSING' && { lastRunAt: now }) });
  const written = await recorder.recordWithin(trx, job.monitorId, { status: resultStatus, message: verdictMessage(monitor.name, job, run, verdict), value: verdict.measuredSize }, now);
  // The result's realtime events: the caller publishes them once the transaction has committed.
  return { alerted: written?.alerted ?? false, events: recorder.staged(trx) };
}
