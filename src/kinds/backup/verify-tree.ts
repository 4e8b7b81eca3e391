/**
 * `vigie backup verify DIR`: checks an agent's tree (DIR/STATUS.json and DIR/<job_id>/…) the way
 * the server will, without a server: the report against its schema, each manifest checksum, and
 * every file's size and SHA-256 (read without following links). An agent can run it before its
 * transfer, an operator on a deposit or on a promoted copy with its report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeName, STATUS_FILE } from './paths.js';
import { manifestSha256, parseStatusReport } from './status-report.js';
import { validateDeposit } from './validator.js';

export interface VerifiedRun {
  jobId: string;
  runId: string;
  ok: boolean;
  detail: string;
}

export async function verifyTree(dir: string): Promise<{ problems: string[]; runs: VerifiedRun[] }> {
  let text: string;
  try {
    text = await readFile(join(dir, STATUS_FILE), 'utf8');
  } catch (error) {
    return { problems: [`cannot read ${join(dir, STATUS_FILE)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`], runs: [] };
  }
  const parsed = parseStatusReport(text);
  if (!parsed.ok) return { problems: parsed.problems, runs: [] };
  const runs: VerifiedRun[] = [];
  for (const job of parsed.report.jobs) {
    const entry = { jobId: job.job_id, runId: job.run_id };
    if (!isSafeName(job.job_id)) {
      runs.push({ ...entry, ok: false, detail: 'job_id is not a directory name' });
      continue;
    }
    if (job.status === 'failure') {
      runs.push({ ...entry, ok: false, detail: `the agent reported a failure${job.message ? `: ${job.message}` : ''}` });
      continue;
    }
    if (manifestSha256(job.files) !== job.manifest_sha256) {
      runs.push({ ...entry, ok: false, detail: `manifest_sha256 does not match the listed files (expected ${manifestSha256(job.files)})` });
      continue;
    }
    const checked = await validateDeposit(join(dir, job.job_id), job.files);
    runs.push(checked.ok ? { ...entry, ok: true, detail: `${job.files.length} file(s), ${checked.totalSize} bytes` } : { ...entry, ok: false, detail: checked.reason });
  }
  return { problems: [], runs };
}
