/**
 * `vigie backup push`: an agent's run sent to Vigie. Over HTTP (the default): the manifest is
 * computed (each file hashed as a stream), each file is uploaded as a stream with its SHA-256
 * (PUT …/files/{path}), then the report is posted (POST …/report); the server's own validation
 * follows. With `--rsync DEST`: the same report is written into a local STATUS.json (merged with
 * the agent's other jobs, under a temporary name then renamed) and the rsync commands that send
 * the files, then the report last, are printed. Every failure is one line and a non-zero exit.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { request } from 'undici';
import { entriesOfText, mergeReport, readReportText, writeFileAtomically } from '../kinds/backup/report-writer.js';
import { manifestSha256, type JobReport, type ManifestEntry } from '../kinds/backup/status-report.js';
import { VERSION } from '../version.js';
import { collectFiles, manifestOf, type LocalFile } from './backup-files.js';

/** Files at least this large show their progress on stderr. */
const PROGRESS_FROM_BYTES = 16 * 1024 * 1024;
const LOG_TAIL_CHARS = 16_000;
const MESSAGE_CHARS = 4000;

export interface PushOptions {
  jobId: string;
  runId: string;
  status: 'success' | 'failure';
  message?: string;
  logFile?: string;
  args: readonly string[];
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A failure of the push (server refusal, network): exit status 1. */
export class PushError extends Error {}

/** A run id from the time: `2026-12-05T021000Z`. */
export const defaultRunId = (now = new Date()): string =>
  now
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** The last LOG_TAIL_CHARS characters of the log, read from its end (a log may be large). */
async function logTail(path: string): Promise<string> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new PushError(`cannot read --log-file ${path}: ${error.code ?? error.message}`);
  });
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_TAIL_CHARS * 4);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').slice(-LOG_TAIL_CHARS);
  } finally {
    await handle.close();
  }
}

async function reportOf(options: PushOptions, files: ManifestEntry[], startedAt: Date): Promise<Omit<JobReport, 'job_id' | 'run_id'>> {
  return {
    status: options.status,
    ...(options.message !== undefined && { message: options.message.slice(0, MESSAGE_CHARS) }),
    ...(options.logFile !== undefined && { log_tail: await logTail(options.logFile) }),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    files,
    manifest_sha256: manifestSha256(files),
  };
}

async function prepare(options: PushOptions): Promise<{ files: LocalFile[]; manifest: ManifestEntry[] }> {
  const files = await collectFiles(options.args);
  if (files.length === 0 && options.status === 'success') throw new PushError('no file to send: a successful run lists its backup files (use --status failure to report a failed run)');
  return { files, manifest: await manifestOf(files) };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Counts the bytes that pass, and prints each tenth of a large file. */
function progress(path: string, size: number, err: (line: string) => void): Transform {
  let sent = 0;
  let shown = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      const tenth = Math.floor((sent * 10) / size);
      if (size >= PROGRESS_FROM_BYTES && tenth > shown) {
        shown = tenth;
        err(`  ${path}: ${tenth * 10} % (${mib(sent)} of ${mib(size)})`);
      }
      done(null, chunk);
    },
  });
}

/** The server's `detail`, in one line. */
function detailOf(text: string): string {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) return detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`).join('; ');
  } catch {
    // not JSON: shown as it came
  }
  return text.slice(0, 500);
}

async function call(url: string, init: Parameters<typeof request>[1], what: string): Promise<{ status: number; text: string }> {
  try {
    const response = await request(url, init);
    return { status: response.statusCode, text: await response.body.text() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PushError(`${what}: cannot reach ${new URL(url).origin}: ${code ?? (error as Error).message}`);
  }
}

/** Sends the run over HTTP; resolves with a one-line summary. */
export async function pushOverHttp(options: PushOptions & { url: string; apiKey: string }): Promise<string> {
  const startedAt = new Date();
  const { files, manifest } = await prepare(options);
  const base = `${options.url.replace(/\/+$/, '')}/api/v1/backup-jobs/${encodeURIComponent(options.jobId)}/runs/${encodeURIComponent(options.runId)}`;
  const headers = { 'x-api-key': options.apiKey, 'user-agent': `vigie-backup-push/${VERSION}` };
  for (const [i, file] of files.entries()) {
    const entry = manifest[i]!;
    const url = `${base}/files/${entry.path.split('/').map(encodeURIComponent).join('/')}`;
    const body = createReadStream(file.source, { highWaterMark: 1024 * 1024 }).pipe(progress(entry.path, entry.size, options.err));
    const answer = await call(
      url,
      { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(entry.size), 'x-content-sha256': entry.sha256 }, body },
      `upload of ${entry.path}`,
    );
    if (answer.status !== 201) throw new PushError(`upload of ${entry.path} refused (${answer.status}): ${detailOf(answer.text)}`);
    options.out(`uploaded ${entry.path} (${entry.size} bytes, sha256 ${entry.sha256})`);
  }
  const report = await reportOf(options, manifest, startedAt);
  const answer = await call(`${base}/report`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(report) }, 'report');
  if (answer.status !== 202) throw new PushError(`report refused (${answer.status}): ${detailOf(answer.text)}`);
  const total = manifest.reduce((sum, f) => sum + f.size, 0);
  return `reported run ${options.runId} of job ${options.jobId} (${options.status}): ${manifest.length} file(s), ${total} bytes; the server validates it at its next scan`;
}

/** A word for a POSIX shell, quoted when it needs to be. */
const shellWord = (word: string): string => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * Writes the run into the local STATUS.json (the agent's other jobs kept) and returns the rsync
 * commands: the files into DEST/<job_id>/ first, the report into DEST/STATUS.json last.
 */
export async function prepareRsync(options: PushOptions & { dest: string; agent: string; statusFile: string }): Promise<string[]> {
  const startedAt = new Date();
  const { manifest } = await prepare(options);
  const entry: JobReport = { job_id: options.jobId, run_id: options.runId, ...(await reportOf(options, manifest, startedAt)) };
  const statusFile = resolve(options.statusFile);
  const existing = entriesOfText(await readReportText(statusFile));
  try {
    await mkdir(dirname(statusFile), { recursive: true });
    await writeFileAtomically(statusFile, `${JSON.stringify(mergeReport(existing, options.agent, entry, new Date()), null, 2)}\n`);
  } catch (error) {
    throw new PushError(`cannot write ${statusFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const dest = options.dest.replace(/\/+$/, '');
  // A directory's content goes into the job's directory (DIR/, as the manifest's paths say); a file by its name.
  const sources = await Promise.all(options.args.map(async (arg) => ((await lstat(arg)).isDirectory() ? `${arg.replace(/\/+$/, '')}/` : arg)));
  const commands: string[] = [];
  if (sources.length) commands.push(['rsync', '-a', '--partial-dir=.rsync-partial', '--', ...sources, `${dest}/${options.jobId}/`].map(shellWord).join(' '));
  commands.push(['rsync', '-a', '--', statusFile, `${dest}/STATUS.json`].map(shellWord).join(' '));
  return commands;
}
