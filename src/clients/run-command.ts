/**
 * `vigie run`: what `runitor` does for Healthchecks. Pings `/start` with a fresh run id, runs the
 * command (no shell), then pings `/{exit status}` with the same run id and the last 10 kB of the
 * command's combined output as the body, and returns the command's exit status.
 *
 * The command's status always wins: a monitoring outage must not turn a good job into a failed
 * one (or hide a failure), so a failed ping is only a warning on stderr.
 *
 * Exit statuses, as shells and coreutils `timeout` report them:
 * - the command's own code when it exits;
 * - 128 + signal number when a signal kills it (SIGKILL = 137);
 * - 124 when `timeoutSeconds` elapsed (whether SIGTERM or, 5 s later, SIGKILL ended it);
 * - 127 when the command does not exist, 126 when it cannot be started otherwise.
 * Every non-zero status is a failure for the server (`/1` to `/255`).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { buildPingUrl, sendPing, type PingKind, type PingResult, type SendPingOptions } from './ping-client.js';
import { TailBuffer } from './tail-buffer.js';

export const OUTPUT_TAIL_BYTES = 10_240;
export const TIMEOUT_EXIT_STATUS = 124;
export const DEFAULT_KILL_AFTER_MS = 5_000;
/** How long to wait for the output pipes once the command has exited (a grandchild may hold them open). */
const PIPE_DRAIN_MS = 1_000;

export interface RunCommandOptions {
  pingUrl: string;
  command: string;
  args: readonly string[];
  /** Kill the command after this many seconds and report exit status 124. */
  timeoutSeconds?: number;
  /** Delay between SIGTERM and SIGKILL on timeout (default 5 s). */
  killAfterMs?: number;
  /** Retries, per-attempt timeout, fetch and sleep of both pings. */
  ping?: Pick<SendPingOptions, 'retries' | 'timeoutMs' | 'fetchImpl' | 'sleep'>;
  /**
   * Relay SIGTERM and SIGHUP sent to this process to the command, so that stopping the wrapper
   * stops the job and still reports it. SIGINT is only kept from killing the wrapper: a terminal's
   * Ctrl-C already reaches the command, which shares our process group.
   */
  forwardSignals?: boolean;
  /** Where the command's output is echoed (process.stdout / process.stderr by default). */
  stdout?: Writable;
  stderr?: Writable;
  /** One-line warnings (failed pings); written to `stderr` by default. */
  warn?: (line: string) => void;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: NodeJS.ErrnoException;
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const warn = options.warn ?? ((line: string) => stderr.write(`${line}\n`));
  buildPingUrl(options.pingUrl); // bad URL: throw before running anything
  if (options.timeoutSeconds !== undefined && !(options.timeoutSeconds > 0)) {
    throw new RangeError(`timeout must be a positive number of seconds, got ${options.timeoutSeconds}`);
  }

  const rid = randomUUID();
  const ping = async (kind: PingKind, body?: Buffer): Promise<void> => {
    const result: PingResult = await sendPing(options.pingUrl, { ...options.ping, kind, rid, body });
    if (!result.ok) {
      const name = typeof kind === 'object' ? `/${kind.exit}` : `/${kind}`;
      warn(`vigie run: ${name} ping failed after ${result.attempts} attempt(s): ${result.error}`);
    }
  };

  await ping('start');
  const tail = new TailBuffer(OUTPUT_TAIL_BYTES);
  // Our own notes (timeout, kill, spawn failure) go into the output the server receives, too.
  const note = (line: string) => {
    const chunk = Buffer.from(`vigie run: ${line}\n`);
    stderr.write(chunk);
    tail.push(chunk);
  };
  const outcome = await execute(options, tail, stdout, stderr, note);
  const status = exitStatus(outcome);
  await ping({ exit: status }, tail.contents());
  return status;
}

function execute(options: RunCommandOptions, tail: TailBuffer, stdout: Writable, stderr: Writable, note: (line: string) => void): Promise<Outcome & { timedOut: boolean }> {
  return new Promise((resolve) => {
    // stdin stays the terminal's (or cron's); output is piped so that it can be both echoed and kept.
    const child = spawn(options.command, [...options.args], { stdio: ['inherit', 'pipe', 'pipe'] });
    let timedOut = false;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const relay = (signal: NodeJS.Signals) => child.kill(signal);
    const ignore = () => {};

    child.stdout.on('data', (chunk: Buffer) => (stdout.write(chunk), tail.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr.write(chunk), tail.push(chunk)));

    if (options.timeoutSeconds !== undefined) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        note(`timed out after ${options.timeoutSeconds} s, sent SIGTERM`);
        child.kill('SIGTERM');
        const killAfterMs = options.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
        killTimer = setTimeout(() => {
          note(`still running ${killAfterMs / 1000} s after SIGTERM, sent SIGKILL`);
          child.kill('SIGKILL');
        }, killAfterMs);
      }, options.timeoutSeconds * 1000);
    }
    if (options.forwardSignals) {
      process.on('SIGTERM', relay).on('SIGHUP', relay).on('SIGINT', ignore);
    }

    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      process.off('SIGTERM', relay).off('SIGHUP', relay).off('SIGINT', ignore);
      resolve({ ...outcome, timedOut });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      // 'error' without 'exit' means the command never started.
      if (child.pid !== undefined) return;
      note(`cannot run "${options.command}": ${error.message}`);
      finish({ code: null, signal: null, spawnError: error });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      // Collect the last output, but do not hang on a pipe a background grandchild still holds.
      const streams = [child.stdout, child.stderr];
      let open = streams.filter((s) => !s.closed).length;
      const done = () => {
        clearTimeout(drainTimer);
        for (const stream of streams) stream.destroy();
        finish({ code, signal });
      };
      const drainTimer = setTimeout(done, PIPE_DRAIN_MS);
      if (open === 0) done();
      for (const stream of streams) stream.once('close', () => --open === 0 && done());
    });
  });
}

function exitStatus(outcome: Outcome & { timedOut: boolean }): number {
  if (outcome.spawnError) return outcome.spawnError.code === 'ENOENT' ? 127 : 126;
  if (outcome.timedOut) return TIMEOUT_EXIT_STATUS;
  if (outcome.code !== null) return outcome.code;
  const number = outcome.signal ? constants.signals[outcome.signal] : undefined;
  return number ? 128 + number : 1;
}
