/**
 * The HTTP deposit of one file (PUT /api/v1/backup-jobs/{id}/runs/{run_id}/files/{path}): the
 * body is streamed to disk under the job's deposit directory, hashed with SHA-256 as it passes
 * (one chunk in memory at a time, whatever the size), counted against BACKUP_UPLOAD_MAX_BYTES,
 * and written under a dot-name (`.vigie-upload-<uuid>`) that the scanner treats as a transfer
 * under way, like rsync's `.name.XXXXXX`. Only a complete file whose hash is the one announced is
 * fsynced and renamed to its name; anything else is removed. Names follow the scanner's rules
 * (paths.ts), and every directory on the way must be a real directory (no link is followed), so
 * nothing is ever written outside the job's deposit directory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ConflictError, ValidationError } from '../../errors.js';
import { unsafePathReason } from './paths.js';

/** 413, in the one error shape. */
export class PayloadTooLargeError extends AppError {
  readonly statusCode = 413;
}

export const UPLOAD_PREFIX = '.vigie-upload-';
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Control characters (C0 and DEL): a name with one cannot be shown or typed safely. */
const CONTROL = /[\x00-\x1f\x7f]/;

/** Why an uploaded file's path is refused (the scanner's rules, plus control characters), or null. */
export function uploadPathProblem(path: string): string | null {
  const unsafe = unsafePathReason(path);
  if (unsafe) return unsafe;
  if (CONTROL.test(path)) return 'path holds a control character';
  return null;
}

/** The announced SHA-256 (lower-case hex), or a 422 naming the header. */
export function expectedSha256Of(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '')
    throw ValidationError.field(['header', 'x-content-sha256'], "Header X-Content-SHA256 is required: the file's SHA-256 in hexadecimal, as in the manifest", 'missing');
  const hex = value.trim().toLowerCase();
  if (!SHA256_HEX.test(hex)) throw ValidationError.field(['header', 'x-content-sha256'], 'Header X-Content-SHA256 must be 64 hexadecimal digits (a SHA-256)', 'value_error');
  return hex;
}

/** Creates `name` inside `parent` when missing, and refuses anything there that is not a real directory. */
export async function realDirectory(parent: string, name: string, shown: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const stat = await lstat(dir);
  if (!stat.isDirectory()) throw new ConflictError(`${shown} exists in the deposit and is not a directory${stat.isSymbolicLink() ? ' (a symbolic link, refused)' : ''}`);
  return dir;
}

export interface UploadInput {
  /** The deposit zone, and the path of the job's directory below it (tenant, agent, job: safe names). */
  depositDir: string;
  jobParts: readonly string[];
  /** The file's path relative to the job's directory, as in the manifest. */
  path: string;
  body: AsyncIterable<Buffer | string>;
  expectedSha256: string;
  maxBytes: number;
  /** Content-Length when the client sent one: refused at once when over the limit. */
  declaredLength?: number;
}

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

export async function storeUpload(input: UploadInput): Promise<StoredFile> {
  const { path, maxBytes } = input;
  const problem = uploadPathProblem(path);
  if (problem) throw ValidationError.field(['path', 'path'], `refused file name ${JSON.stringify(path)}: ${problem}`, 'value_error');
  const tooLarge = () => new PayloadTooLargeError(`The file is larger than the upload limit of ${maxBytes} bytes (BACKUP_UPLOAD_MAX_BYTES); nothing was kept`);
  if (input.declaredLength !== undefined && input.declaredLength > maxBytes) throw tooLarge();

  let dir = input.depositDir;
  for (const part of input.jobParts) dir = await realDirectory(dir, part, "the job's deposit directory");
  const parts = path.split('/');
  const name = parts.pop()!;
  for (const part of parts) dir = await realDirectory(dir, part, `directory ${JSON.stringify(part)} of ${JSON.stringify(path)}`);

  const temporary = join(dir, `${UPLOAD_PREFIX}${randomUUID()}`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let kept = false;
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of input.body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBytes) throw tooLarge();
      hash.update(bytes);
      await handle.write(bytes);
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== input.expectedSha256)
      throw ValidationError.field(['header', 'x-content-sha256'], `SHA-256 of the ${size} bytes received is ${sha256}, not ${input.expectedSha256} as announced; nothing was kept`, 'hash_mismatch');
    await handle.sync();
    await handle.close();
    const target = join(dir, name);
    const existing = await lstat(target).catch(() => null);
    if (existing?.isDirectory()) throw new ConflictError(`${JSON.stringify(path)} is a directory in the deposit`);
    await rename(temporary, target);
    kept = true;
    await syncDirectory(dir);
    return { path, size, sha256 };
  } finally {
    await handle.close().catch(() => undefined);
    if (!kept) await rm(temporary, { force: true });
  }
}

/** fsync of a directory, so a rename in it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
