/**
 * A backup agent as seed 001 describes it, for tests: it writes a dump, transfers it with the real
 * `rsync` into its job's deposit directory, then writes its STATUS.json under a temporary name,
 * renamed into place last (the commit marker).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { manifestSha256 } from '../../src/kinds/backup/status-report.js';

const run = promisify(execFile);

export interface AgentFile {
  path: string;
  content: Buffer;
}

export interface AgentRun {
  jobId: string;
  runId: string;
  status?: 'success' | 'failure';
  message?: string;
  logTail?: string;
  files: AgentFile[];
  /** What the report says of each file, when it should lie (a corrupted transfer). */
  reported?: { path: string; size: number; sha256: string }[];
}

export const sha256 = (content: Buffer | string): string => createHash('sha256').update(content).digest('hex');

/** The manifest entries of these files, as the agent computes them. */
export const manifestOf = (files: AgentFile[]) => files.map((f) => ({ path: f.path, size: f.content.length, sha256: sha256(f.content) }));

/** Writes the files under `source/<jobId>/` and rsyncs them into the agent's deposit root. */
export async function rsyncFiles(source: string, agentRoot: string, jobId: string, files: AgentFile[]): Promise<void> {
  const jobSource = join(source, jobId);
  await mkdir(jobSource, { recursive: true });
  for (const file of files) {
    await mkdir(join(jobSource, file.path, '..'), { recursive: true });
    await writeFile(join(jobSource, file.path), file.content);
  }
  await mkdir(agentRoot, { recursive: true });
  await run('rsync', ['-a', `${jobSource}/`, `${join(agentRoot, jobId)}/`]);
}

export function statusReport(agent: string, runs: AgentRun[], at = new Date()) {
  return {
    schema_version: 1,
    agent,
    generated_at: at.toISOString(),
    jobs: runs.map((r) => {
      const files = r.reported ?? manifestOf(r.files);
      return {
        job_id: r.jobId,
        run_id: r.runId,
        status: r.status ?? 'success',
        ...(r.message !== undefined && { message: r.message }),
        ...(r.logTail !== undefined && { log_tail: r.logTail }),
        started_at: new Date(at.getTime() - 60_000).toISOString(),
        finished_at: at.toISOString(),
        files,
        manifest_sha256: manifestSha256(files),
      };
    }),
  };
}

/** STATUS.json written last: a temporary name in the same directory, then a rename. */
export async function writeStatus(agentRoot: string, report: unknown): Promise<void> {
  await mkdir(agentRoot, { recursive: true });
  const temporary = join(agentRoot, `.STATUS.json.${process.pid}.tmp`);
  await writeFile(temporary, JSON.stringify(report));
  await rename(temporary, join(agentRoot, 'STATUS.json'));
}

/** A whole agent run: rsync each job's files, then the report. */
export async function deposit(source: string, agentRoot: string, agent: string, runs: AgentRun[]): Promise<void> {
  for (const r of runs) await rsyncFiles(source, agentRoot, r.jobId, r.files);
  await writeStatus(agentRoot, statusReport(agent, runs));
}

/** Pseudo-random bytes of a given size (a "dump"), reproducible from a seed. */
export function dump(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
