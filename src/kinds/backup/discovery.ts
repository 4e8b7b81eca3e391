/**
 * Finding new runs in the deposit zone: each agent directory's STATUS.json, read without
 * following links, is the commit marker. A run is taken only when its report and every file it
 * lists have stopped changing for the settle time and no rsync temporary is being written beside
 * them. A report already fully known (same inode, size and time) is not read again, so a pass over
 * idle agents reads no file content.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import type { Logger } from '../../logger.js';
import { isSafeName, isTransferTemporary, STATUS_FILE, unsafePathReason } from './paths.js';
import { JobReport, MAX_STATUS_BYTES, parseStatusReport } from './status-report.js';

export interface FoundReport {
  tenantId: string;
  agent: string;
  agentDir: string;
  /** Entries with a job id and a run id; `problems` set when the entry (or the whole report) is invalid. */
  entries: { jobId: string; runId: string; report: JobReport | null; problems: string[] }[];
  /** Identity of the file read, for the "already known" cache. */
  key: string;
  /** Real time the report last changed. */
  mtimeMs: number;
}

/**
 * Reads an agent's STATUS.json; undefined when absent, a link, too large or still settling;
 * 'known' without reading its content when its identity (inode, size, time) is `knownKey`.
 */
export async function readReport(agentDir: string, settleMs: number, wallNow: number, knownKey?: string): Promise<{ key: string; mtimeMs: number; text: string } | 'settling' | 'known' | undefined> {
  let handle;
  try {
    handle = await open(join(agentDir, STATUS_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_STATUS_BYTES) return undefined;
    const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (key === knownKey) return 'known';
    if (wallNow - stat.mtimeMs < settleMs) return 'settling';
    const text = await handle.readFile('utf8');
    return { key, mtimeMs: stat.mtimeMs, text };
  } finally {
    await handle.close();
  }
}

/** The report's entries, each with its own problems (or the report's, when it is not valid as a whole). */
export function entriesOf(text: string, agent: string): FoundReport['entries'] {
  const parsed = parseStatusReport(text);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  const jobs = (raw as { jobs?: unknown }).jobs;
  if (!Array.isArray(jobs)) return [];
  const reportProblems = parsed.ok ? [] : parsed.problems.filter((p) => !p.startsWith('/jobs/'));
  if (parsed.ok && parsed.report.agent !== agent) reportProblems.push(`STATUS.json names agent "${parsed.report.agent}" but lies in the directory of agent "${agent}"`);
  return jobs.flatMap((entry: unknown) => {
    const e = entry as { job_id?: unknown; run_id?: unknown };
    if (typeof e?.job_id !== 'string' || typeof e.run_id !== 'string' || !isSafeName(e.run_id)) return [];
    const problems = [...reportProblems];
    if (!Value.Check(JobReport, entry)) {
      const issues = [...Value.Errors(JobReport, entry)] as { instancePath: string; message?: string }[];
      problems.push(...issues.slice(0, 10).map((i) => `${i.instancePath || '/'}: ${i.message ?? 'invalid'}`));
    }
    return [{ jobId: e.job_id, runId: e.run_id, report: problems.length ? null : (entry as JobReport), problems }];
  });
}

/** Whether a run's files have stopped changing: none listed, nor any transfer temporary, changed within the settle time. */
export async function depositSettled(jobDir: string, report: JobReport, settleMs: number, wallNow: number): Promise<boolean> {
  const recent = (mtimeMs: number) => wallNow - mtimeMs < settleMs;
  const dirs = new Set<string>(['']);
  for (const file of report.files) {
    if (unsafePathReason(file.path) !== null) continue;
    const stat = await lstat(join(jobDir, file.path)).catch(() => null);
    if (stat && recent(stat.mtimeMs)) return false;
    const slash = file.path.lastIndexOf('/');
    if (slash > 0) dirs.add(file.path.slice(0, slash));
  }
  for (const dir of dirs) {
    const names = await readdir(join(jobDir, dir)).catch(() => [] as string[]);
    for (const name of names.filter(isTransferTemporary)) {
      const stat = await lstat(join(jobDir, dir, name)).catch(() => null);
      if (stat && recent(stat.mtimeMs)) return false;
    }
  }
  return true;
}

/** The agent directories of the deposit zone: `<tenant>/<agent>/`, real directories only (links are not followed). */
export async function agentDirectories(depositDir: string, logger: Pick<Logger, 'warn'>): Promise<{ tenantId: string; agent: string; agentDir: string }[]> {
  const found: { tenantId: string; agent: string; agentDir: string }[] = [];
  const tenants = await readdir(depositDir, { withFileTypes: true }).catch(() => []);
  for (const tenant of tenants) {
    if (!tenant.isDirectory() || !isSafeName(tenant.name)) continue;
    const agents = await readdir(join(depositDir, tenant.name), { withFileTypes: true }).catch(() => []);
    for (const agent of agents) {
      if (agent.isSymbolicLink()) logger.warn({ path: join(depositDir, tenant.name, agent.name) }, 'backup deposit: an agent directory is a symbolic link; ignored');
      if (!agent.isDirectory() || !isSafeName(agent.name)) continue;
      found.push({ tenantId: tenant.name, agent: agent.name, agentDir: join(depositDir, tenant.name, agent.name) });
    }
  }
  return found;
}
