/**
 * Client side of the Healthchecks-compatible ping protocol: `/ping/{uuid}`, `…/start`, `…/fail`,
 * `…/log`, `…/{exit_status}`, with `?rid=` pairing a start with its end.
 *
 * A ping must never be lost to a blip, but must never hang the job it reports on either: each
 * attempt has its own timeout, network errors and 5xx/429 are retried with a short exponential
 * backoff, and 4xx is final (retrying an unknown check or a malformed id cannot succeed).
 * The function never throws for a failed ping (it returns `ok: false`); it throws only for bad
 * input, which is a bug in the caller.
 */
import { VERSION } from '../version.js';

export type PingKind = 'success' | 'start' | 'fail' | 'log' | { exit: number };

export interface SendPingOptions {
  /** Which ping to send; `success` (the bare URL) by default. */
  kind?: PingKind;
  /** Run id pairing a `start` with its end; sent as `?rid=`. */
  rid?: string;
  /** Text stored with the ping. With a body the ping is a POST, without one a GET. */
  body?: string | Uint8Array;
  /** Retries after the first attempt (default 3: waits of 0.5 s, 1 s, 2 s). */
  retries?: number;
  /** Time limit of each attempt, including reading the answer (default 10 s). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Injectable for tests, so that backoff does not cost real time. */
  sleep?: (ms: number) => Promise<void>;
}

export interface PingResult {
  ok: boolean;
  /** HTTP status of the last attempt; null when no answer came back at all. */
  status: number | null;
  attempts: number;
  /** Why the ping failed, in one line; absent when ok. */
  error?: string;
}

export const DEFAULT_PING_RETRIES = 3;
export const DEFAULT_PING_TIMEOUT_MS = 10_000;
const FIRST_BACKOFF_MS = 500;
const RID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function isRunId(value: string): boolean {
  return RID_PATTERN.test(value);
}

function suffix(kind: PingKind): string {
  if (typeof kind === 'object') {
    if (!Number.isInteger(kind.exit) || kind.exit < 0 || kind.exit > 255) {
      throw new RangeError(`exit status must be an integer from 0 to 255, got ${kind.exit}`);
    }
    return `/${kind.exit}`;
  }
  if (kind === 'success') return '';
  if (kind === 'start' || kind === 'fail' || kind === 'log') return `/${kind}`;
  throw new RangeError(`unknown ping kind ${JSON.stringify(kind)}`);
}

/** The URL of one ping: the check's URL plus the kind's suffix, plus `rid` (other query parameters kept). */
export function buildPingUrl(pingUrl: string, kind: PingKind = 'success', rid?: string): string {
  let url: URL;
  try {
    url = new URL(pingUrl);
  } catch {
    throw new TypeError(`invalid ping URL "${pingUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`ping URL must be http(s), got "${pingUrl}"`);
  url.pathname = url.pathname.replace(/\/+$/, '') + suffix(kind);
  if (rid !== undefined) {
    if (!isRunId(rid)) throw new TypeError(`rid must be a UUID, got "${rid}"`);
    // Appending rather than going through searchParams keeps the other parameters byte for byte
    // (searchParams re-encodes the whole query, e.g. %20 becomes +).
    if (url.searchParams.has('rid')) url.searchParams.set('rid', rid);
    else url.search = url.search ? `${url.search}&rid=${rid}` : `?rid=${rid}`;
  }
  return url.toString();
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** One line saying why fetch rejected: a timeout, or the network error's code (ECONNREFUSED, …). */
function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return detail ? `${message} (${detail})` : message;
}

export async function sendPing(pingUrl: string, options: SendPingOptions = {}): Promise<PingResult> {
  const url = buildPingUrl(pingUrl, options.kind ?? 'success', options.rid);
  const retries = options.retries ?? DEFAULT_PING_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  const fetchImpl = options.fetchImpl ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const headers: Record<string, string> = { 'user-agent': `vigie/${VERSION}` };
  if (options.body !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';

  let result: PingResult = { ok: false, status: null, attempts: 0 };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (attempt > 1) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 2));
    try {
      const response = await fetchImpl(url, {
        method: options.body === undefined ? 'GET' : 'POST',
        headers,
        body: options.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Read the answer so the connection can be reused, and so a slow body counts against the timeout.
      const text = await response.text();
      if (response.ok) return { ok: true, status: response.status, attempts: attempt };
      const answer = text.trim().split('\n')[0]?.slice(0, 200);
      result = { ok: false, status: response.status, attempts: attempt, error: `HTTP ${response.status}${answer ? ` ${answer}` : ''}` };
      if (!retryable(response.status)) return result;
    } catch (error) {
      result = { ok: false, status: null, attempts: attempt, error: describeFetchError(error, timeoutMs) };
    }
  }
  return result;
}
