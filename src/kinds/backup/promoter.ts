/**
 * Promotion into the validated zone: the run's copy is built in a staging directory beside its
 * final place (hard links when both zones share a file system, a copy otherwise), every file and
 * directory is fsynced, then one atomic rename puts it in place and the parent is fsynced. Only
 * after that (and after the database says `promoted`) are older copies beyond keep_healthy
 * removed: at every instant the validated tree holds at least one complete healthy copy. The
 * job's directory and its parents, when promotion creates them, are made durable too (each new
 * directory's parent fsynced): a first copy must not vanish with a directory entry a power cut lost.
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STAGING_PREFIX } from './paths.js';
import type { MeasuredFile } from './validator.js';

const COPY_BUFFER = 1024 * 1024;

/** The deposit changed between validation and promotion: the run must be validated again. */
export class ChangedSinceValidation extends Error {}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const exists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** Copies without following links, checking the source is the very file that was validated. */
async function copyValidated(source: string, target: string, file: MeasuredFile): Promise<void> {
  const input = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const before = await input.stat();
    if (before.ino !== file.ino || before.size !== file.size || before.mtimeMs !== file.mtimeMs) throw new ChangedSinceValidation(`${file.path} changed since it was validated`);
    const output = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const buffer = Buffer.allocUnsafe(COPY_BUFFER);
      let position = 0;
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, COPY_BUFFER, position);
        if (bytesRead === 0) break;
        await output.write(buffer, 0, bytesRead, position);
        position += bytesRead;
      }
      // The source's times, so the deposit's cleanup can tell this file from a newer one of the same name.
      await output.utimes(before.atime, before.mtime);
      await output.sync();
    } finally {
      await output.close();
    }
    const after = await input.stat();
    if (after.mtimeMs !== file.mtimeMs || after.size !== file.size) throw new ChangedSinceValidation(`${file.path} changed while it was copied`);
  } finally {
    await input.close();
  }
}

/** Hard link (same file system) or copy; the linked inode must be the one that was hashed. */
async function place(source: string, target: string, file: MeasuredFile): Promise<'link' | 'copy'> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM') throw error;
    await copyValidated(source, target, file);
    return 'copy';
  }
  const linked = await lstat(target);
  if (!linked.isFile() || linked.ino !== file.ino || linked.size !== file.size || linked.mtimeMs !== file.mtimeMs) throw new ChangedSinceValidation(`${file.path} changed since it was validated`);
  await fsyncPath(target);
  return 'link';
}

export interface PromoteInput {
  depositDir: string;
  /** The job's directory in the validated zone. */
  jobDir: string;
  runId: string;
  files: readonly MeasuredFile[];
}

/**
 * mkdir -p whose new directories survive a power cut: each directory created has its parent
 * fsynced (deepest first: a parent's entry is durable before the child's matters).
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const created: string[] = [];
  for (let path = dir; !(await exists(path)); path = dirname(path)) created.push(path);
  if (created.length === 0) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const path of created) await fsyncPath(dirname(path));
}

export const finalDirOf = (jobDir: string, runId: string): string => join(jobDir, runId);
export const stagingDirOf = (jobDir: string, runId: string): string => join(jobDir, `${STAGING_PREFIX}${runId}`);

/** Builds, syncs and renames the run's copy into place; returns how files were placed. */
export async function promote(input: PromoteInput): Promise<'link' | 'copy' | 'none'> {
  const finalDir = finalDirOf(input.jobDir, input.runId);
  const staging = stagingDirOf(input.jobDir, input.runId);
  await mkdirDurable(input.jobDir);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  let how: 'link' | 'copy' | 'none' = 'none';
  const directories = new Set<string>([staging]);
  for (const file of input.files) {
    const target = join(staging, file.path);
    const parent = dirname(target);
    if (!directories.has(parent)) {
      await mkdir(parent, { recursive: true, mode: 0o700 });
      for (let dir = parent; dir !== staging && !directories.has(dir); dir = dirname(dir)) directories.add(dir);
    }
    how = await place(join(input.depositDir, file.path), target, file);
  }
  // Deepest first, so each directory's entries are durable before its parent's.
  for (const dir of [...directories].sort((a, b) => b.length - a.length)) await fsyncPath(dir);
  await rename(staging, finalDir);
  await fsyncPath(input.jobDir);
  return how;
}

/** Removes every entry of a job's validated directory except the kept runs' copies (older copies, stray staging). */
export async function pruneJobDir(jobDir: string, keepRunIds: ReadonlySet<string>, keepStaging: ReadonlySet<string> = new Set()): Promise<string[]> {
  const entries = await readdir(jobDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    if (keepRunIds.has(name) || keepStaging.has(name)) continue;
    await rm(join(jobDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length) await fsyncPath(jobDir);
  return removed;
}
