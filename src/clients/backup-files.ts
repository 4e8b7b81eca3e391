/**
 * The agent side of a backup run's files, for `vigie backup push`: which files a command line
 * names (a FILE is sent under its own name, a DIR's content under paths relative to it, as
 * `rsync DIR/` does), refused early when the server would refuse them (links, hidden names), and
 * their manifest, each file hashed as a stream (fixed memory, any size).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { uploadPathProblem } from '../kinds/backup/upload.js';
import type { ManifestEntry } from '../kinds/backup/status-report.js';

export interface LocalFile {
  /** Path in the job's deposit directory (the manifest's `path`). */
  path: string;
  /** Where it is on this machine. */
  source: string;
}

/** A refusal of what the command line names: exit status 2, like a usage error. */
export class BadInputError extends Error {}

async function walk(dir: string, prefix: string, into: LocalFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const source = join(dir, entry.name);
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) throw new BadInputError(`${source} is a symbolic link: the server refuses links; copy the file instead`);
    if (entry.isDirectory()) await walk(source, path, into);
    else if (entry.isFile()) into.push({ path, source });
    else throw new BadInputError(`${source} is not a regular file`);
  }
}

/** The files named on the command line, with their deposit paths; refused: links, hidden or odd names, a path twice, nothing at all. */
export async function collectFiles(args: readonly string[]): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const arg of args) {
    const info = await lstat(arg).catch(() => null);
    if (!info) throw new BadInputError(`${arg}: no such file or directory`);
    if (info.isSymbolicLink()) throw new BadInputError(`${arg} is a symbolic link: the server refuses links; name the file itself`);
    if (info.isDirectory()) await walk(resolve(arg), '', files);
    else if (info.isFile()) files.push({ path: basename(arg), source: resolve(arg) });
    else throw new BadInputError(`${arg} is not a regular file or a directory`);
  }
  const seen = new Set<string>();
  for (const file of files) {
    const problem = uploadPathProblem(file.path);
    if (problem) throw new BadInputError(`${file.source}: the server would refuse the name ${JSON.stringify(file.path)} (${problem})`);
    if (seen.has(file.path)) throw new BadInputError(`two files would be sent as ${JSON.stringify(file.path)}`);
    seen.add(file.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(source: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(source, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function manifestOf(files: readonly LocalFile[]): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const file of files) entries.push({ path: file.path, ...(await hashFile(file.source)) });
  return entries;
}
