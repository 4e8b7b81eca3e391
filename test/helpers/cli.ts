/**
 * Runs the built `vigie` CLI as a real process in its own working directory, with only the
 * environment a test gives it (no inherited .env or TEST_* variables).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { DEV_DATA } from '../../src/auth/bootstrap.js';

export const CLI = resolve('dist/cli.js');

export function tempWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigie-cli-'));
}

function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: baseEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Base URL the server announced, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  output(): { stdout: string; stderr: string };
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `vigie serve` on a free port and resolves once it logs that it is listening. */
export function startServe(options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ServeProcess> {
  // serve must log at info: its "listening" line is how the test learns the port.
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: options.cwd, env: baseEnv({ ...options.env, LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigie serve did not start in time.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /"url":"(http:\/\/[^"]+)","database"/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePromise({
          child,
          url: match[1]!,
          output: () => ({ stdout, stderr }),
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    // Never rejects (it resolves on 'close'); after a successful start the reject below is a no-op.
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vigie serve exited with ${code} before listening.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    });
  });
}

/** The development data set's API key, which `vigie bootstrap --dev` creates. */
export const DEV_API_KEY: string = DEV_DATA.apiKey;

/** JSON calls to a running `vigie serve`: `api('POST', '/api/v1/…', body)` resolves with the parsed answer. */
export type ServeApi = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<any>;

/**
 * A `ServeApi` on `server` with `key` (by default the development data set's, which
 * `bootstrap --dev` creates). Each call must answer 201 to a POST and 200 otherwise; any other
 * status fails the test with the call and the body, so a test reads only what it expects.
 */
export function serveApi(server: ServeProcess, key = DEV_API_KEY): ServeApi {
  return async (method, path, body) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBe(method === 'POST' ? 201 : 200);
    return JSON.parse(text);
  };
}
