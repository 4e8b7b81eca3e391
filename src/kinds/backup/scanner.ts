/**
 * The scanner: each pass finds new runs in the deposit zone (discovery.ts), then takes every
 * received run through validation (validator.ts), its verdict (verdicts.ts) and, when healthy,
 * promotion (promoter.ts), and finally cleans the deposits of judged runs (deposit-cleanup.ts).
 * Runs are claimed with a compare-and-set on their state and a random token, so two passes (or
 * two processes) never validate or promote the same run twice; a claim names its owner and
 * holds a lease the owner renews while it works (claim-lease.ts), so only an abandoned claim is
 * ever taken back. The database moves first and the files follow; start-up recovery (`recover`)
 * finishes whatever a crash interrupted.
 */
import { randomUUID } from 'node:crypto';
import { lstat, rm } from 'node:fs/promises';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import { claimIsAbandoned, newClaimOwner } from './claim-lease.js';
import { agentDirectories, depositSettled, entriesOf, readReport } from './discovery.js';
import { pruneQuarantine, quarantineDeposit, removeDeposit } from './deposit-cleanup.js';
import { findBackupJob, listAgentJobs, toJobSettings, type BackupJobSettings } from './jobs.repository.js';
import { agentRoot, depositPath, jobValidatedDir, quarantinePath, STAGING_PREFIX, type Zones } from './paths.js';
import { ChangedSinceValidation, exists, finalDirOf, promote, pruneJobDir, stagingDirOf } from './promoter.js';
import { pruneRunHistory } from './run-retention.js';
import { findRun, insertRun, knownRunIds, promotedRuns, toRun, type BackupRun } from './runs.repository.js';
import { manifestSha256, parseTime, type JobReport } from './status-report.js';
import { judgeRun, type Verdict } from './verdicts.js';
import { validateDeposit } from './validator.js';

export interface ScannerOptions {
  db: Db;
  clock: Clock;
  recorder: ResultRecorder;
  zones: Zones;
  /** How long a report and its files must stay unchanged before the run is taken (real time: file times are real). */
  settleMs: number;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Real time, for comparing with file times; Date.now unless a test says otherwise. */
  wallNow?: () => number;
  /** Quarantined runs older than this are deleted; undefined: kept. */
  quarantineRetentionMs?: number;
  /** Runs received longer ago than this are deleted (run-retention.ts); undefined: kept. */
  runRetentionMs?: number;
  /** Test hook: called at each step of a run's processing (the SIGKILL test kills around them). */
  onStep?: (step: string) => void | Promise<void>;
  /** How long a claim holds without renewal (default CLAIM_LEASE_MS); renewed every third of it while the run is worked on. */
  leaseMs?: number;
  /** This scanner's owner id in claims (default: a new one, claim-lease.ts). */
  owner?: string;
}

export interface PassSummary {
  found: number;
  judged: number;
  promoted: number;
}

const RUNS_PER_PASS = 100;
/** A claim's default lease: long enough for a stalled disk, short enough that another server takes over a crashed one's runs. */
export const CLAIM_LEASE_MS = 600_000;
/** The quarantine's and the run history's retention are applied at most this often (days-long retentions; each pass would be waste). */
const RETENTION_EVERY_MS = 3_600_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The sizes the size check compares with, newest first: the last healthy runs' and, once an
 * operator accepted an anomaly's size (POST …/accept-size), only those promoted since, then that size.
 */
export function sizesToCompare(healthy: readonly BackupRun[], job: Pick<BackupJobSettings, 'sizeBaselineBytes' | 'sizeBaselineAt' | 'sizeWindow'>): number[] {
  const since = job.sizeBaselineAt;
  const runs = since === null ? healthy : healthy.filter((r) => r.promotedAt !== null && r.promotedAt > since);
  const sizes = runs.map((r) => r.measuredSize).filter((s): s is number => s !== null);
  if (job.sizeBaselineBytes !== null) sizes.push(job.sizeBaselineBytes);
  return sizes.slice(0, job.sizeWindow);
}

export function createBackupScanner(options: ScannerOptions) {
  const { db, clock, recorder, zones, settleMs, logger } = options;
  const wallNow = options.wallNow ?? Date.now;
  const step = async (name: string) => options.onStep?.(name);
  const owner = options.owner ?? newClaimOwner();
  const leaseMs = options.leaseMs ?? CLAIM_LEASE_MS;
  const claimColumns = (token: string) => ({ claim_token: token, claim_owner: owner, claim_expires_at: clock.now() + leaseMs });
  const unclaimed = { claim_token: null, claim_owner: null, claim_expires_at: null };

  /** Renews the run's lease while its holder works on it; returns the function that stops renewing. */
  function holdLease(id: string, token: string): () => void {
    const timer = setInterval(
      () => {
        db.updateTable('backup_runs')
          .set({ claim_expires_at: clock.now() + leaseMs })
          .where('id', '=', id)
          .where('claim_token', '=', token)
          .execute()
          .catch((error: unknown) => logger.warn({ err: error, run: id }, 'backup run lease not renewed; renewed at the next tick'));
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }
  /** Reports whose every entry is known: not read again until they change. */
  const knownReports = new Map<string, string>();
  let lastQuarantinePrune = Number.NEGATIVE_INFINITY;
  let lastHistoryPrune = Number.NEGATIVE_INFINITY;

  async function discover(): Promise<number> {
    let found = 0;
    for (const { tenantId, agent, agentDir } of await agentDirectories(zones.depositDir, logger)) {
      const read = await readReport(agentDir, settleMs, wallNow(), knownReports.get(agentDir));
      if (read === undefined || read === 'settling' || read === 'known') continue;
      const jobs = new Map((await listAgentJobs(db, tenantId, agent)).map((j) => [j.monitorId, j]));
      let complete = true;
      for (const entry of entriesOf(read.text, agent)) {
        const job = jobs.get(entry.jobId);
        if (!job) continue; // not a job of this agent in this tenant: nothing of it is touched
        if ((await knownRunIds(db, job.monitorId, [entry.runId])).size) continue;
        if (entry.report && !(await depositSettled(depositPath(zones, tenantId, agent, job.monitorId), entry.report, settleMs, wallNow()))) {
          complete = false;
          continue;
        }
        if (await receive(job, entry.runId, entry.report, entry.problems)) found++;
      }
      if (complete) knownReports.set(agentDir, read.key);
    }
    return found;
  }

  /** Records a new run as received; an invalid entry is judged at once, with its problems as the reason. */
  async function receive(job: BackupJobSettings, runId: string, report: JobReport | null, problems: string[]): Promise<boolean> {
    const id = randomUUID();
    const token = problems.length ? randomUUID() : null;
    const inserted = await insertRun(db, {
      id,
      monitor_id: job.monitorId,
      tenant_id: job.tenantId,
      run_id: runId,
      state: problems.length ? 'validating' : 'received',
      ...(token ? claimColumns(token) : unclaimed),
      status: null,
      reason: null,
      agent_status: report?.status ?? null,
      agent_message: report?.message ?? null,
      log_tail: report?.log_tail ?? null,
      started_at: report ? parseTime(report.started_at) : null,
      finished_at: report ? parseTime(report.finished_at) : null,
      file_count: report?.files.length ?? 0,
      expected_size: report ? report.files.reduce((sum, f) => sum + f.size, 0) : null,
      expected_sha256: report?.manifest_sha256 ?? null,
      files_json: JSON.stringify(report?.files ?? []),
      received_at: clock.now(),
    });
    if (inserted && token) {
      const run = (await findRun(db, id))!;
      await finish(run, job, token, 'validating', { status: 'TRANSFER_INTEGRITY_FAILED', reason: `invalid STATUS.json: ${problems.join('; ')}`, measuredSize: null, measuredSha256: null });
    }
    return inserted;
  }

  /** Writes a rejection (or an unchanged run) and moves its deposit away. */
  async function finish(run: BackupRun, job: BackupJobSettings, token: string, from: 'validating', verdict: Verdict, validationMs?: number): Promise<void> {
    const now = clock.now();
    const written = await db
      .transaction()
      .execute((trx) => judgeRun(trx, recorder, { run, job, verdict, from, to: 'rejected', claimToken: token, now, extra: { validated_at: now, validation_ms: validationMs ?? 0 } }));
    recorder.committed(written?.events);
    if (written?.alerted) recorder.alertWritten();
    if (written) await cleanRun(run.id);
  }

  async function judge(run: BackupRun, job: BackupJobSettings, report: { agentRoot: string; depositDir: string }): Promise<{ verdict: Verdict; files?: Awaited<ReturnType<typeof validateDeposit>> }> {
    const none = { measuredSize: null, measuredSha256: null };
    if (run.agentStatus === 'failure')
      return { verdict: { status: 'FAILED', reason: run.agentMessage ? `the agent reported a failure: ${run.agentMessage}` : 'the agent reported a failure', ...none } };
    if (run.files.length === 0) return { verdict: { status: 'FAILED', reason: 'the report lists no file', ...none } };
    if (manifestSha256(run.files) !== run.expectedSha256) return { verdict: { status: 'TRANSFER_INTEGRITY_FAILED', reason: 'manifest_sha256 does not match the listed files', ...none } };
    for (const dir of [report.agentRoot, report.depositDir]) {
      const stat = await lstat(dir).catch(() => null);
      if (stat && !stat.isDirectory())
        return { verdict: { status: 'TRANSFER_INTEGRITY_FAILED', reason: `${dir === report.agentRoot ? 'the agent' : "the job's deposit"} directory is a symbolic link (refused)`, ...none } };
    }
    const files = await validateDeposit(report.depositDir, run.files);
    if (!files.ok) {
      // Every file read (none missing or refused): the manifest of what arrived has a hash too.
      const measuredSha256 = files.files?.length === run.files.length ? manifestSha256(files.files) : null;
      return { verdict: { status: 'TRANSFER_INTEGRITY_FAILED', reason: files.reason, measuredSize: files.measuredSize, measuredSha256 }, files };
    }
    const measuredSha256 = manifestSha256(files.files);
    const measured = { measuredSize: files.totalSize, measuredSha256 };
    const healthy = await promotedRuns(db, job.monitorId, job.sizeWindow);
    if (healthy[0]?.measuredSha256 === measuredSha256) return { verdict: { status: 'UNCHANGED', reason: `same content as the last healthy run ${healthy[0].runId}`, ...measured }, files };
    const sizes = sizesToCompare(healthy, job);
    if (sizes.length) {
      const middle = median(sizes);
      const delta = Math.abs(files.totalSize - middle);
      if (delta > (middle * job.sizeAnomalyPercent) / 100 && delta > job.sizeAnomalyFloorBytes) {
        const percent = middle > 0 ? Math.round(((files.totalSize - middle) / middle) * 1000) / 10 : 100;
        return {
          verdict: { status: 'SIZE_ANOMALY', reason: `size ${files.totalSize} bytes is ${percent} % from the median of the last ${sizes.length} healthy runs (${middle} bytes)`, ...measured },
          files,
        };
      }
    }
    return { verdict: { status: 'SUCCESS', reason: null, ...measured }, files };
  }

  async function processRun(candidate: BackupRun): Promise<'promoted' | 'judged' | 'skipped'> {
    const token = randomUUID();
    const claimed = await db
      .updateTable('backup_runs')
      .set({ state: 'validating', ...claimColumns(token) })
      .where('id', '=', candidate.id)
      .where('state', '=', 'received')
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) return 'skipped'; // another pass took it
    const stopRenewing = holdLease(candidate.id, token);
    try {
      return await processClaimed(candidate, token);
    } finally {
      stopRenewing();
    }
  }

  async function processClaimed(candidate: BackupRun, token: string): Promise<'promoted' | 'judged' | 'skipped'> {
    await step('claimed');
    const job = await findBackupJob(db, candidate.tenantId, candidate.jobId);
    if (!job) return 'skipped'; // deleted: its runs go with it
    const run = { ...candidate, state: 'validating' as const };
    const where = { agentRoot: agentRoot(zones, job.tenantId, job.agent), depositDir: depositPath(zones, job.tenantId, job.agent, job.monitorId) };
    const started = performance.now();
    let judged: Awaited<ReturnType<typeof judge>>;
    try {
      judged = await judge(run, job, where);
    } catch (error) {
      // An I/O error while reading: give the run back, so the next pass tries again.
      await db
        .updateTable('backup_runs')
        .set({ state: 'received', ...unclaimed })
        .where('id', '=', run.id)
        .where('state', '=', 'validating')
        .where('claim_token', '=', token)
        .execute();
      throw error;
    }
    const { verdict, files } = judged;
    const validationMs = Math.round(performance.now() - started);
    await step('validated');
    if (verdict.status !== 'SUCCESS' || !files?.ok) {
      await finish(run, job, token, 'validating', verdict, validationMs);
      return 'judged';
    }
    const now = clock.now();
    const moved = await db
      .updateTable('backup_runs')
      .set({ state: 'promoting', status: 'SUCCESS', measured_size: verdict.measuredSize, measured_sha256: verdict.measuredSha256, validated_at: now, validation_ms: validationMs })
      .where('id', '=', run.id)
      .where('state', '=', 'validating')
      .where('claim_token', '=', token)
      .executeTakeFirst();
    if (moved.numUpdatedRows === 0n) return 'skipped';
    await step('promoting');
    const jobDir = jobValidatedDir(zones, job.tenantId, job.agent, job.monitorId);
    const promotionStarted = performance.now();
    try {
      await promote({ depositDir: where.depositDir, jobDir, runId: run.runId, files: files.files });
    } catch (error) {
      if (!(error instanceof ChangedSinceValidation)) throw error;
      logger.warn({ run: run.id, err: error.message }, 'backup run changed after validation; validated again at the next pass');
      await release(run.id, 'promoting', token, jobDir, run.runId);
      return 'skipped';
    }
    await step('renamed');
    await completePromotion({ ...run, state: 'promoting' }, job, token, verdict, Math.round(performance.now() - promotionStarted));
    return 'promoted';
  }

  /** Gives a claimed run back (state `received`), its staging removed. */
  async function release(id: string, from: string, token: string | null, jobDir: string, runId: string): Promise<void> {
    await rm(stagingDirOf(jobDir, runId), { recursive: true, force: true });
    let query = db
      .updateTable('backup_runs')
      .set({ state: 'received', status: null, ...unclaimed })
      .where('id', '=', id)
      .where('state', '=', from);
    query = token === null ? query.where('claim_token', 'is', null) : query.where('claim_token', '=', token);
    await query.execute();
  }

  /** promoting → promoted with its result; then older copies go and the deposit is cleaned. */
  async function completePromotion(run: BackupRun, job: BackupJobSettings, token: string | null, verdict: Verdict, promotionMs: number | null): Promise<void> {
    const now = clock.now();
    const written = await db.transaction().execute((trx) =>
      judgeRun(trx, recorder, {
        run,
        job,
        verdict,
        from: 'promoting',
        to: 'promoted',
        claimToken: token,
        now,
        extra: { promoted_at: now, ...(promotionMs !== null && { promotion_ms: promotionMs }) },
      }),
    );
    recorder.committed(written?.events);
    if (written?.alerted) recorder.alertWritten();
    await step('promoted');
    await pruneJob(job);
    await step('pruned');
    await cleanRun(run.id);
  }

  /** Keeps the job's newest keep_healthy promoted copies; removes every other entry of its validated directory. */
  async function pruneJob(job: BackupJobSettings): Promise<void> {
    const keep = await promotedRuns(db, job.monitorId, job.keepHealthy);
    const promoting = await db.selectFrom('backup_runs').select('run_id').where('monitor_id', '=', job.monitorId).where('state', '=', 'promoting').execute();
    const jobDir = jobValidatedDir(zones, job.tenantId, job.agent, job.monitorId);
    // A promoting run's staging, and its copy already renamed into place, belong to a promotion under way.
    const keptStaging = new Set(promoting.flatMap((r) => [r.run_id, `${STAGING_PREFIX}${r.run_id}`]));
    await pruneJobDir(jobDir, new Set(keep.map((r) => r.runId)), keptStaging);
    const kept = keep.map((r) => r.id);
    let query = db.updateTable('backup_runs').set({ pruned_at: clock.now() }).where('monitor_id', '=', job.monitorId).where('state', '=', 'promoted').where('pruned_at', 'is', null);
    if (kept.length) query = query.where('id', 'not in', kept);
    await query.execute();
  }

  /** Moves a judged run's deposit to quarantine (rejected) or removes it (promoted, unchanged), once. */
  async function cleanRun(id: string): Promise<void> {
    const run = await findRun(db, id);
    if (!run || run.cleanedAt !== null || (run.state !== 'rejected' && run.state !== 'promoted')) return;
    const job = await findBackupJob(db, run.tenantId, run.jobId);
    if (!job) return;
    const depositDir = depositPath(zones, job.tenantId, job.agent, job.monitorId);
    if (run.state === 'promoted') await removeDeposit(depositDir, finalDirOf(jobValidatedDir(zones, job.tenantId, job.agent, job.monitorId), run.runId), run);
    else if (run.status === 'UNCHANGED') await removeDeposit(depositDir, null, run);
    else await quarantineDeposit(depositDir, quarantinePath(zones, job.tenantId, job.agent, job.monitorId, run.runId), run);
    await db.updateTable('backup_runs').set({ cleaned_at: clock.now() }).where('id', '=', id).where('cleaned_at', 'is', null).execute();
  }

  /**
   * Takes back the runs whose claim is abandoned (claim-lease.ts; at start-up, this scanner's own
   * too): a `validating` run goes back to `received`; a `promoting` run whose copy was renamed into
   * place is finished (promoted, its result recorded), one whose rename did not happen loses its
   * staging and is validated again. Each move is a compare-and-set on the claim that was seen.
   */
  async function takeBackAbandoned(ownToo: boolean): Promise<void> {
    const held = await db.selectFrom('backup_runs').selectAll().where('state', 'in', ['validating', 'promoting']).execute();
    const now = clock.now();
    for (const row of held) {
      if (!claimIsAbandoned(row, now, owner, ownToo)) continue;
      if (row.state === 'validating') {
        // A holder that renews meanwhile keeps its token, but its next compare-and-set (on state) fails: it stops.
        const back = db
          .updateTable('backup_runs')
          .set({ state: 'received', ...unclaimed })
          .where('id', '=', row.id)
          .where('state', '=', 'validating');
        await (row.claim_token === null ? back.where('claim_token', 'is', null) : back.where('claim_token', '=', row.claim_token)).execute();
        continue;
      }
      const run = toRun(row);
      const job = await findBackupJob(db, run.tenantId, run.jobId);
      if (!job) continue;
      const jobDir = jobValidatedDir(zones, job.tenantId, job.agent, job.monitorId);
      if (await exists(finalDirOf(jobDir, run.runId))) {
        const verdict: Verdict = { status: 'SUCCESS', reason: null, measuredSize: run.measuredSize, measuredSha256: run.measuredSha256 };
        await completePromotion(run, job, row.claim_token, verdict, null);
      } else {
        await release(run.id, 'promoting', row.claim_token, jobDir, run.runId);
      }
    }
  }

  return {
    /** One pass: abandoned claims taken back, new runs found, received runs judged and promoted, pending cleanups done. */
    async pass(): Promise<PassSummary> {
      await takeBackAbandoned(false);
      const found = await discover();
      const received = await db.selectFrom('backup_runs').selectAll().where('state', '=', 'received').orderBy('received_at').limit(RUNS_PER_PASS).execute();
      let judged = 0;
      let promoted = 0;
      for (const row of received) {
        try {
          const outcome = await processRun(toRun(row));
          if (outcome !== 'skipped') judged++;
          if (outcome === 'promoted') promoted++;
        } catch (error) {
          logger.warn({ err: error, run: row.id }, 'backup run processing failed; retried after a restart');
        }
      }
      if (options.quarantineRetentionMs !== undefined && wallNow() - lastQuarantinePrune >= RETENTION_EVERY_MS) {
        lastQuarantinePrune = wallNow();
        await pruneQuarantine(zones, options.quarantineRetentionMs, lastQuarantinePrune);
      }
      // The history's times are the clock's (received_at), unlike the quarantine's file times.
      if (options.runRetentionMs !== undefined && clock.now() - lastHistoryPrune >= RETENTION_EVERY_MS) {
        lastHistoryPrune = clock.now();
        await pruneRunHistory(db, lastHistoryPrune - options.runRetentionMs);
      }
      const unclean = await db.selectFrom('backup_runs').select('id').where('cleaned_at', 'is', null).where('state', 'in', ['rejected', 'promoted']).limit(RUNS_PER_PASS).execute();
      for (const { id } of unclean) await cleanRun(id);
      return { found, judged, promoted };
    },

    /**
     * Start-up recovery: abandoned claims are taken back (takeBackAbandoned: a live claim of another
     * process is left to it); every job's validated directory is pruned to its kept copies (a
     * promotion under way keeps its staging) and pending cleanups are done at the next pass. The tree is then one complete healthy copy per job
     * (keep_healthy of them) and the database agrees.
     */
    async recover(): Promise<void> {
      await takeBackAbandoned(true);
      const jobs = await db.selectFrom('backup_jobs').selectAll().execute();
      for (const job of jobs.map(toJobSettings)) await pruneJob(job);
      knownReports.clear();
    },
  };
}

export type BackupScanner = ReturnType<typeof createBackupScanner>;
