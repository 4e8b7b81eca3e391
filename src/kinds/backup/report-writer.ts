/**
 * Writing an agent's STATUS.json for a run that came another way than a file transfer (the HTTP
 * report route, `vigie backup push --rsync`): the job's entry replaces its previous one and the
 * other jobs' entries are kept, and the whole report is written under a temporary name, fsynced
 * and renamed into place, so the scanner only ever reads a complete report (the commit marker).
 *
 * Two writers of one agent's report must not lose each other's entry (read, merge, write): they
 * are serialised per report by an in-process queue and, across processes (several `vigie serve`
 * replicas on a shared deposit zone), by a lock file created with O_EXCL beside the report.
 */
import { keyedSerial } from '../../keyed-serial.js';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_STATUS_BYTES, type JobReport } from './status-report.js';
import { syncDirectory } from './upload.js';

/** The report's entries as found: objects with at least a job id (anything else is dropped on rewrite). */
type Entry = Record<string, unknown> & { job_id: string; run_id?: unknown };

/** The entries of a report's text; an unreadable report is an empty one (it is rewritten whole). */
export function entriesOfText(text: string | null): Entry[] {
  if (text === null) return [];
  try {
    const jobs = (JSON.parse(text) as { jobs?: unknown }).jobs;
    return Array.isArray(jobs) ? jobs.filter((e): e is Entry => typeof e === 'object' && e !== null && typeof (e as Entry).job_id === 'string') : [];
  } catch {
    return [];
  }
}

/** The report with `entry` in place of its job's previous entry, the other jobs kept in their order. */
export function mergeReport(existing: Entry[], agent: string, entry: JobReport, now: Date): Record<string, unknown> {
  const others = existing.filter((e) => e.job_id !== entry.job_id);
  return { schema_version: 1, agent, generated_at: now.toISOString(), jobs: [...others, entry] };
}

/** Reads a report without following a link; null when absent, not a regular file or too large. */
export async function readReportText(path: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_STATUS_BYTES) return null;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes `content` to `path` atomically: a temporary name beside it, fsync, rename, fsync of the directory. */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `.${randomUUID()}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let renamed = false;
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
    renamed = true;
    await syncDirectory(dir);
  } finally {
    await handle.close().catch(() => undefined);
    if (!renamed) await rm(temporary, { force: true });
  }
}

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 60_000;
const LOCK_WAIT_MS = 15_000;
const LOCK_RETRY_MS = 20;

export class ReportBusyError extends Error {}

/** Holds `<path>.lock` (created with O_EXCL) while `work` runs; waits for another holder, takes over a stale lock. */
async function withLockFile<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lock).catch(() => null);
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new ReportBusyError(`${path} is locked by another writer`);
      else await sleep(LOCK_RETRY_MS);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

const inTurn = keyedSerial();

/** Runs `work` alone for this report path: after the process's other writers of it, and under its lock file. */
export function exclusively<T>(path: string, work: () => Promise<T>): Promise<T> {
  return inTurn(path, () => withLockFile(path, work));
}

/** Whether a path exists as a real directory (not a link). */
export async function isRealDirectory(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => null);
  return info?.isDirectory() ?? false;
}
