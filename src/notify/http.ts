/**
 * The one HTTP POST the chat, paging and webhook providers share: undici with a timeout over the
 * whole exchange, and the answer classified the same way for all of them. 2xx is delivered;
 * 408, 429 and 5xx may pass later; any other 4xx will fail again with the same request, so the
 * delivery loop must not hammer the receiver with it. Details name the host only: Slack and
 * Telegram URLs hold secrets (the webhook path, the bot token).
 */
import { Type } from 'typebox';
import { request } from 'undici';
import type { SendResult } from './provider.js';

/** An http(s) URL in a channel's config (no file:, no javascript:). */
export const HttpUrl = (description: string) => Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, description });

/** How much of a response body is kept for the attempt log. */
const DETAIL_BODY_CHARS = 300;
/** Enough of a response body for the detail; the rest is not downloaded. */
const MAX_BODY_BYTES = 16 * 1024;
const USER_AGENT = 'Vigie notifier';

export interface JsonPost {
  url: string;
  /** The exact bytes sent: a signature computed over it stays valid. */
  body: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The sentence for a request that got no response. */
export function describeNetworkError(error: unknown, host: string, timeoutMs: number): string {
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer from ${host} within ${timeoutMs} ms`;
  }
  if (code === 'ECONNREFUSED') return `connection refused by ${host}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return `DNS lookup failed for ${host}`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection reset by ${host}`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${host} is unreachable`;
  return `request to ${host} failed: ${code ?? name ?? 'error'}${message ? ` (${message})` : ''}`;
}

async function readBody(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break; // leaving the loop stops the download
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length <= DETAIL_BODY_CHARS ? text : `${text.slice(0, DETAIL_BODY_CHARS)}…`;
}

/** Framing headers are undici's to set from the body; a custom value would corrupt the request. */
const FRAMING_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);

/** Lower-cased so that a custom "Content-Type" is replaced by ours, not sent beside it. */
function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => !FRAMING_HEADERS.has(name)),
  );
}

export async function postJson({ url, body, headers = {}, timeoutMs }: JsonPost): Promise<SendResult> {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    // No URL in the detail: it may be a secret (a Slack webhook).
    return { ok: false, retryable: false, detail: 'the destination URL is not valid' };
  }
  try {
    const response = await request(url, {
      method: 'POST',
      // Custom headers first: they may add, never replace, what makes the request valid.
      headers: { ...lowerCased(headers), 'user-agent': USER_AGENT, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const responseBody = await readBody(response.body);
    const status = response.statusCode;
    const said = snippet(responseBody);
    const detail = `HTTP ${status} from ${host}${said ? `: ${said}` : ''}`;
    if (status >= 200 && status < 300) return { ok: true, retryable: false, status, detail };
    return { ok: false, retryable: isRetryableStatus(status), status, detail };
  } catch (error) {
    return { ok: false, retryable: true, detail: describeNetworkError(error, host, timeoutMs) };
  }
}
