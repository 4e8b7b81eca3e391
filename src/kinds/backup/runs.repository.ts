/** The backup_runs table: one row per run of a job, from its report to its verdict. */
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { BackupRunsTable } from '../../db/tables/backups.table.js';
import type { BackupStatus, RunState } from './statuses.js';
import type { ManifestEntry } from './status-report.js';

export interface BackupRun {
  id: string;
  jobId: string;
  tenantId: string;
  runId: string;
  state: RunState;
  status: BackupStatus | null;
  resultStatus: string | null;
  reason: string | null;
  agentStatus: string | null;
  agentMessage: string | null;
  logTail: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  fileCount: number;
  expectedSize: number | null;
  measuredSize: number | null;
  expectedSha256: string | null;
  measuredSha256: string | null;
  files: ManifestEntry[];
  receivedAt: number;
  judgedAt: number | null;
  validatedAt: number | null;
  promotedAt: number | null;
  validationMs: number | null;
  promotionMs: number | null;
  cleanedAt: number | null;
  prunedAt: number | null;
  sizeAcceptedAt: number | null;
}

const num = (value: number | string | null): number | null => (value === null ? null : Number(value));

export const toRun = (row: Selectable<BackupRunsTable>): BackupRun => ({
  id: row.id,
  jobId: row.monitor_id,
  tenantId: row.tenant_id,
  runId: row.run_id,
  state: row.state as RunState,
  status: row.status as BackupStatus | null,
  resultStatus: row.result_status,
  reason: row.reason,
  agentStatus: row.agent_status,
  agentMessage: row.agent_message,
  logTail: row.log_tail,
  startedAt: num(row.started_at),
  finishedAt: num(row.finished_at),
  fileCount: row.file_count,
  expectedSize: num(row.expected_size),
  measuredSize: num(row.measured_size),
  expectedSha256: row.expected_sha256,
  measuredSha256: row.measured_sha256,
  files: JSON.parse(row.files_json) as ManifestEntry[],
  receivedAt: Number(row.received_at),
  judgedAt: num(row.judged_at),
  validatedAt: num(row.validated_at),
  promotedAt: num(row.promoted_at),
  validationMs: num(row.validation_ms),
  promotionMs: num(row.promotion_ms),
  cleanedAt: num(row.cleaned_at),
  prunedAt: num(row.pruned_at),
  sizeAcceptedAt: num(row.size_accepted_at),
});

export interface RunFilters {
  statuses?: readonly BackupStatus[];
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

/** A job's runs, newest first; `from`/`to` bound the time it was received (or found missing). */
export async function listRuns(db: Db, tenantId: string, jobId: string, filters: RunFilters): Promise<{ items: BackupRun[]; total: number }> {
  let query = db.selectFrom('backup_runs').where('tenant_id', '=', tenantId).where('monitor_id', '=', jobId);
  if (filters.statuses?.length) query = query.where('status', 'in', [...filters.statuses]);
  if (filters.from !== undefined) query = query.where('received_at', '>=', filters.from);
  if (filters.to !== undefined) query = query.where('received_at', '<', filters.to);
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy('received_at', 'desc').orderBy('id').limit(filters.limit).offset(filters.offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toRun), total: Number(count.n) };
}

export async function findRun(db: Db, id: string): Promise<BackupRun | undefined> {
  const row = await db.selectFrom('backup_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRun(row);
}

/** The newest healthy copies of a job (promoted and not pruned first), newest first. */
export async function promotedRuns(db: Db, jobId: string, limit: number): Promise<BackupRun[]> {
  const rows = await db.selectFrom('backup_runs').selectAll().where('monitor_id', '=', jobId).where('state', '=', 'promoted').orderBy('promoted_at', 'desc').limit(limit).execute();
  return rows.map(toRun);
}

/** Which of these agent run ids a job already has. */
export async function knownRunIds(db: Db, jobId: string, runIds: readonly string[]): Promise<Set<string>> {
  if (runIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('backup_runs')
    .select('run_id')
    .where('monitor_id', '=', jobId)
    .where('run_id', 'in', [...runIds])
    .execute();
  return new Set(rows.map((r) => r.run_id));
}

export type NewRun = Omit<
  BackupRunsTable,
  | 'claim_token'
  | 'claim_owner'
  | 'claim_expires_at'
  | 'size_accepted_at'
  | 'cleaned_at'
  | 'pruned_at'
  | 'validated_at'
  | 'promoted_at'
  | 'validation_ms'
  | 'promotion_ms'
  | 'measured_size'
  | 'measured_sha256'
  | 'judged_at'
  | 'result_status'
> &
  Partial<BackupRunsTable>;

/** Inserts a run unless the job already has it (the unique (job, run id) index decides, across processes). */
export async function insertRun(db: Db, run: NewRun): Promise<boolean> {
  const result = await db
    .insertInto('backup_runs')
    .values(run)
    .onConflict((oc) => oc.columns(['monitor_id', 'run_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
