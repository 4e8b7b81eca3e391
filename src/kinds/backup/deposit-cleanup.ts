/**
 * What happens to a judged run's deposited files: a rejected run's are moved into the quarantine
 * (`<deposit>/.quarantine/<tenant>/<agent>/<job>/<run>/`, same file system, so a rename) with a
 * REASON.txt; a promoted or unchanged run's are removed. Only the manifest's safe names are
 * touched, and a promoted run's deposit name is removed only while it is still the promoted file
 * (same inode, or a copy's size and time), never a newer upload of the same name.
 */
import { lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BackupRun } from './runs.repository.js';
import { unsafePathReason, type Zones } from './paths.js';
import { parentsAreDirectories } from './validator.js';
import { fsyncPath, mkdirDurable } from './promoter.js';

/**
 * The manifest's files that can be touched: a safe name, below real directories only (a directory
 * swapped for a link would make a rename or unlink act outside the zone), in a job directory that
 * is itself a real directory.
 */
async function safeFiles(depositDir: string, run: BackupRun) {
  const jobDir = await lstat(depositDir).catch(() => null);
  if (!jobDir?.isDirectory()) return [];
  const safe = [];
  for (const file of run.files) {
    if (unsafePathReason(file.path) === null && (await parentsAreDirectories(depositDir, file.path)) === null) safe.push(file);
  }
  return safe;
}

const ignoreMissing = (error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
};

/**
 * Moves the run's files into its quarantine directory, then writes REASON.txt; both are made
 * durable before the caller records the cleanup (a quarantine without its REASON.txt would never
 * be pruned, and a rename a power cut lost would leave the files in the deposit).
 */
export async function quarantineDeposit(depositDir: string, quarantineDir: string, run: BackupRun): Promise<void> {
  await mkdirDurable(quarantineDir);
  const touched = new Set<string>([quarantineDir]);
  for (const file of await safeFiles(depositDir, run)) {
    const target = join(quarantineDir, file.path);
    await mkdirDurable(dirname(target));
    await rename(join(depositDir, file.path), target).catch(ignoreMissing);
    touched.add(dirname(target)).add(dirname(join(depositDir, file.path)));
  }
  const reason = [`run: ${run.runId}`, `status: ${run.status ?? ''}`, `reason: ${run.reason ?? ''}`, `judged at: ${run.judgedAt === null ? '' : new Date(run.judgedAt).toISOString()}`, ''].join('\n');
  const reasonFile = await open(join(quarantineDir, 'REASON.txt'), 'w', 0o600);
  try {
    await reasonFile.writeFile(reason);
    await reasonFile.sync();
  } finally {
    await reasonFile.close();
  }
  for (const dir of touched) await fsyncPath(dir).catch(ignoreMissing);
}

/**
 * Removes the run's files from the deposit, then fsyncs the directories they were in, before the
 * caller records the cleanup: an unlink a power cut lost would bring a processed file back after
 * the run is marked clean, and nothing would remove it again.
 */
export async function removeDeposit(depositDir: string, promotedDir: string | null, run: BackupRun): Promise<void> {
  const touched = new Set<string>();
  for (const file of await safeFiles(depositDir, run)) {
    const path = join(depositDir, file.path);
    if (promotedDir !== null) {
      const [deposited, promoted] = await Promise.all([lstat(path).catch(() => null), lstat(join(promotedDir, file.path)).catch(() => null)]);
      // Already gone: an earlier, interrupted cleanup may have unlinked it without the fsync below.
      if (!deposited) touched.add(dirname(path));
      if (!deposited || !promoted) continue;
      const same = deposited.ino === promoted.ino || (deposited.size === promoted.size && deposited.mtimeMs === promoted.mtimeMs);
      if (!same) continue; // a newer upload of the same name: the next run's
    }
    await unlink(path).catch(ignoreMissing);
    touched.add(dirname(path));
  }
  for (const dir of touched) await fsyncPath(dir).catch(ignoreMissing);
}

/**
 * Deletes quarantined runs older than the retention (by their REASON.txt's time):
 * `<deposit>/.quarantine/<tenant>/<agent>/<job>/<run>/`. Only real directories are walked.
 */
export async function pruneQuarantine(zones: Zones, retentionMs: number, wallNow: number): Promise<number> {
  const dirsOf = async (dir: string) => (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  let removed = 0;
  let level = [join(zones.depositDir, '.quarantine')];
  for (let depth = 0; depth < 4; depth++) level = (await Promise.all(level.map(dirsOf))).flat();
  for (const runDir of level) {
    const marker = await lstat(join(runDir, 'REASON.txt')).catch(() => null);
    if (!marker || wallNow - marker.mtimeMs <= retentionMs) continue;
    await rm(runDir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
