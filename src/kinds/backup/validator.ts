/**
 * Checks a run's deposited files against its manifest, on the server's own reading: each file is
 * opened without following a symbolic link (O_NOFOLLOW on the file, lstat on every directory
 * above it, and the opened descriptor's real path checked), must be a regular file of the listed
 * size, and is hashed as a stream through one fixed buffer, whatever its size.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestEntry } from './status-report.js';
import { unsafePathReason } from './paths.js';

const BUFFER_BYTES = 1024 * 1024;

/** What was measured of one file: its identity too, so the promoter can tell it was not replaced since. */
export interface MeasuredFile {
  path: string;
  size: number;
  sha256: string;
  ino: number;
  mtimeMs: number;
}

/** A failed validation keeps what it measured: the alert shows measured size and hash beside the reported ones. */
export type Validation = { ok: true; files: MeasuredFile[]; totalSize: number } | { ok: false; reason: string; measuredSize: number | null; files?: MeasuredFile[] };

/** Every directory between the job's directory and the file must be a real directory, not a link. */
export async function parentsAreDirectories(jobDir: string, path: string): Promise<string | null> {
  const parts = path.split('/').slice(0, -1);
  let current = jobDir;
  for (const part of parts) {
    current = join(current, part);
    const stat = await lstat(current).catch(() => undefined);
    if (!stat) return `${path}: directory ${part} is missing`;
    if (stat.isSymbolicLink()) return `${path}: directory ${part} is a symbolic link (refused)`;
    if (!stat.isDirectory()) return `${path}: ${part} is not a directory`;
  }
  return null;
}

/** Streams the file through SHA-256; the size is what was read, so a file still growing shows. */
async function measure(jobDir: string, realJobDir: string, entry: ManifestEntry): Promise<MeasuredFile | string> {
  const parents = await parentsAreDirectories(jobDir, entry.path);
  if (parents) return parents;
  let handle;
  try {
    handle = await open(join(jobDir, entry.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return `${entry.path}: is a symbolic link (refused)`;
    if (code === 'ENOENT') return `${entry.path}: missing from the deposit`;
    return `${entry.path}: cannot be opened (${code ?? 'error'})`;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return `${entry.path}: not a regular file (refused)`;
    // The descriptor's real path: a directory swapped for a link after the lstat walk shows here.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
    if (opened !== null && opened !== join(realJobDir, entry.path)) return `${entry.path}: resolves outside its place (refused)`;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, BUFFER_BYTES, size);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { path: entry.path, size, sha256: hash.digest('hex'), ino: stat.ino, mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

export async function validateDeposit(jobDir: string, files: readonly ManifestEntry[]): Promise<Validation> {
  for (const file of files) {
    const unsafe = unsafePathReason(file.path);
    if (unsafe) return { ok: false, reason: `refused file name ${JSON.stringify(file.path)}: ${unsafe}`, measuredSize: null };
  }
  if (new Set(files.map((f) => f.path)).size !== files.length) return { ok: false, reason: 'the manifest lists a file twice', measuredSize: null };
  const realJobDir = await realpath(jobDir).catch(() => null);
  if (realJobDir === null) return { ok: false, reason: "the job's deposit directory is missing", measuredSize: null };
  const measured: MeasuredFile[] = [];
  let total = 0;
  const problems: string[] = [];
  for (const file of files) {
    const result = await measure(jobDir, realJobDir, file);
    if (typeof result === 'string') {
      problems.push(result);
      continue;
    }
    total += result.size;
    if (result.size !== file.size) problems.push(`${file.path}: size ${result.size} bytes, reported ${file.size}`);
    else if (result.sha256 !== file.sha256) problems.push(`${file.path}: SHA-256 ${result.sha256}, reported ${file.sha256}`);
    measured.push(result);
  }
  if (problems.length) return { ok: false, reason: problems.slice(0, 10).join('; '), measuredSize: total, files: measured };
  return { ok: true, files: measured, totalSize: total };
}
