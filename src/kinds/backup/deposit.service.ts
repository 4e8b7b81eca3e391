/**
 * The HTTP deposit, for agents that cannot rsync: files are uploaded one by one into the job's
 * deposit directory (upload.ts), then the run's report is merged into the agent's STATUS.json
 * (report-writer.ts). From there the scanner takes the run exactly as it takes an rsync deposit:
 * the server's own reading of every file decides, not what the upload route measured.
 * Every operation starts from the job looked up in the caller's tenant (another tenant's: 404).
 */
import type { Db } from '../../db/database.js';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../../errors.js';
import { findBackupJob, type BackupJobSettings } from './jobs.repository.js';
import { isSafeName, STATUS_FILE, type Zones } from './paths.js';
import { exclusively, entriesOfText, mergeReport, readReportText, ReportBusyError, writeFileAtomically } from './report-writer.js';
import { knownRunIds } from './runs.repository.js';
import { manifestSha256, type JobReport } from './status-report.js';
import { ensureZones } from './zones.js';
import { realDirectory, storeUpload, uploadPathProblem, type StoredFile } from './upload.js';

/** The report's body: a STATUS.json entry without job_id and run_id, which the URL gives. */
export type RunReportInput = Omit<JobReport, 'job_id' | 'run_id'>;

export interface UploadRequest {
  path: string;
  body: AsyncIterable<Buffer | string>;
  expectedSha256: string;
  declaredLength?: number;
}

export interface AcceptedReport {
  jobId: string;
  runId: string;
  fileCount: number;
  totalSize: number;
}

export function createDepositService({ db, zones, maxBytes }: { db: Db; zones: Zones; maxBytes: number }) {
  async function jobOf(tenantId: string, jobId: string): Promise<BackupJobSettings> {
    const job = await findBackupJob(db, tenantId, jobId);
    if (!job) throw new NotFoundError('Backup job');
    // The zones are made at the scanner's start; a web process without the scanner makes them here.
    await ensureZones(zones);
    return job;
  }

  /** A run the scanner has recorded is closed: its files and report would be ignored. */
  async function refuseKnownRun(job: BackupJobSettings, runId: string): Promise<void> {
    if ((await knownRunIds(db, job.monitorId, [runId])).size) throw new ConflictError(`Run ${runId} of this job was already received and processed; a new run needs a new run_id`);
  }

  function checkReport(report: RunReportInput): void {
    const problems: FieldProblem[] = [];
    const seen = new Set<string>();
    report.files.forEach((file, i) => {
      const problem = uploadPathProblem(file.path);
      if (problem) problems.push({ loc: ['body', 'files', i, 'path'], msg: `refused file name ${JSON.stringify(file.path)}: ${problem}`, type: 'value_error' });
      else if (seen.has(file.path)) problems.push({ loc: ['body', 'files', i, 'path'], msg: `${JSON.stringify(file.path)} is listed twice`, type: 'value_error' });
      seen.add(file.path);
    });
    const expected = manifestSha256(report.files);
    if (problems.length === 0 && report.manifest_sha256 !== expected)
      problems.push({
        loc: ['body', 'manifest_sha256'],
        msg: `manifest_sha256 does not match the listed files: SHA-256 of the lines "<sha256> <size> <path>\\n" sorted by path is ${expected}`,
        type: 'value_error',
      });
    if (problems.length) throw new ValidationError(problems);
  }

  return {
    async upload(tenantId: string, jobId: string, runId: string, request: UploadRequest): Promise<StoredFile> {
      const job = await jobOf(tenantId, jobId);
      await refuseKnownRun(job, runId);
      return storeUpload({ depositDir: zones.depositDir, jobParts: [job.tenantId, job.agent, job.monitorId], maxBytes, ...request });
    },

    /**
     * Writes the run's entry into the agent's STATUS.json. The job's previous entry is replaced
     * only once the scanner has recorded its run (or when it is the same run, sent again):
     * replacing a run still waiting would lose it without a trace, so that is a 409 to retry.
     */
    async report(tenantId: string, jobId: string, runId: string, report: RunReportInput, now: Date): Promise<AcceptedReport> {
      const job = await jobOf(tenantId, jobId);
      checkReport(report);
      await refuseKnownRun(job, runId);
      let root = zones.depositDir;
      for (const part of [job.tenantId, job.agent]) root = await realDirectory(root, part, "the agent's deposit directory");
      const statusPath = `${root}/${STATUS_FILE}`;
      const entry: JobReport = { job_id: job.monitorId, run_id: runId, ...report };
      try {
        await exclusively(statusPath, async () => {
          const existing = entriesOfText(await readReportText(statusPath));
          const previous = existing.find((e) => e.job_id === job.monitorId);
          const previousRun = typeof previous?.run_id === 'string' && isSafeName(previous.run_id) ? previous.run_id : null;
          if (previousRun !== null && previousRun !== runId && (await knownRunIds(db, job.monitorId, [previousRun])).size === 0)
            throw new ConflictError(`Run ${previousRun} of this job is still waiting for the scanner; send this report again once it is processed (GET /api/v1/backup-jobs/${job.monitorId}/runs)`);
          await writeFileAtomically(statusPath, `${JSON.stringify(mergeReport(existing, job.agent, entry, now), null, 2)}\n`);
        });
      } catch (error) {
        if (error instanceof ReportBusyError) throw new ConflictError("The agent's STATUS.json is being written by another request; try again");
        throw error;
      }
      return { jobId: job.monitorId, runId, fileCount: report.files.length, totalSize: report.files.reduce((sum, f) => sum + f.size, 0) };
    },
  };
}

export type DepositService = ReturnType<typeof createDepositService>;
