/**
 * One HTTP(S) request with undici, as a check: a timeout that covers the whole request (connect,
 * headers and body), latency measured from the start to the complete response headers, the
 * server certificate's expiry captured from the TLS socket, and every failure turned into a
 * sentence a person understands.
 */
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, interceptors, request, type Dispatcher } from 'undici';
import type { CheckOutcome } from '../../monitors/results.service.js';
import { evaluateAssertions, statusOf, type Assertion } from './assertions.js';

export type HttpAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface HttpProbeTarget {
  url: string;
  method: string;
  expectedStatusCode: number;
  timeoutSeconds: number;
  followRedirects: boolean;
  tlsSkipVerify: boolean;
  headers: Record<string, string>;
  body: string | null;
  auth: HttpAuth | null;
  assertions: Assertion[];
}

/** Bodies are read up to this size for assertions; the rest is not downloaded. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REDIRECTIONS = 10;
const USER_AGENT = 'Vigie uptime check';
const TOO_MANY_REDIRECTS = `too many redirects (more than ${MAX_REDIRECTIONS})`;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const TLS_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The sentence for a request that got no response. */
export function describeRequestError(error: unknown, target: HttpProbeTarget): string {
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  const host = new URL(target.url).hostname;
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `timed out after ${target.timeoutSeconds} s`;
  }
  if (code === 'ECONNREFUSED') return `connection refused by ${host}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return `DNS lookup failed for ${host}`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection reset by ${host}`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${host} is unreachable`;
  // undici refuses to revisit a URL of the chain (A → B → A) before the limit is reached.
  if (/redirect loop/i.test(message ?? '')) return 'redirect loop: the server redirects to a URL already visited';
  if (code === 'UND_ERR_MAX_REDIRECTIONS' || /redirect/i.test(message ?? '')) return TOO_MANY_REDIRECTS;
  if (code && TLS_ERROR_CODES.has(code)) return `TLS certificate error: ${message}`;
  return `request failed: ${message || code || name || 'unknown error'}`;
}

function requestHeaders(target: HttpProbeTarget): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...target.headers };
  if (target.auth?.type === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${target.auth.username}:${target.auth.password}`).toString('base64')}`;
  } else if (target.auth?.type === 'bearer') {
    headers.authorization = `Bearer ${target.auth.token}`;
  }
  return headers;
}

async function readBody(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= MAX_BODY_BYTES) break; // leaving the loop stops the download
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

export type Connector = ReturnType<typeof buildConnector>;
export type ConnectorFor = (tlsSkipVerify: boolean, timeoutMs: number) => Connector;

/**
 * undici connectors, one per (TLS verification, timeout) pair, for a checker to share across its
 * checks: building one per check made a TLS session cache with its own FinalizationRegistry each
 * time (10,000 monitors: ~170 a second, a large part of the heap's churn). Sessions are not
 * cached (maxCachedSessions 0), so every check still does a full handshake.
 */
export function createConnectors(): ConnectorFor {
  const connectors = new Map<string, Connector>();
  return (tlsSkipVerify, timeoutMs) => {
    const key = `${tlsSkipVerify}:${timeoutMs}`;
    let connector = connectors.get(key);
    if (!connector) {
      connector = buildConnector({ rejectUnauthorized: !tlsSkipVerify, timeout: timeoutMs, maxCachedSessions: 0 });
      connectors.set(key, connector);
    }
    return connector;
  };
}

export async function probeHttp(target: HttpProbeTarget, now: () => number, connectorFor: ConnectorFor = createConnectors()): Promise<CheckOutcome> {
  const timeoutMs = target.timeoutSeconds * 1000;
  const connect = connectorFor(target.tlsSkipVerify, timeoutMs);
  let certificateValidTo: number | undefined;
  // A fresh agent per check: each check measures a full connection, and the TLS socket can be
  // read for the certificate's expiry.
  const agent = new Agent({
    connect: (options, callback) =>
      connect(options, (error, socket) => {
        const tls = socket as TLSSocket | null;
        if (!error && tls && typeof tls.getPeerCertificate === 'function') {
          const validTo = tls.getPeerCertificate()?.valid_to;
          if (validTo) certificateValidTo = Date.parse(validTo);
        }
        (callback as (error: Error | null, socket: unknown) => void)(error, socket);
      }),
  });
  const dispatcher = target.followRedirects ? agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS })) : agent;
  // A timer cleared when the check ends, not AbortSignal.timeout(): that one lives until it fires
  // (the whole timeout, 30 s by default, after a check of a few ms) and is tracked for GC.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  const signal = controller.signal;
  const started = performance.now();
  try {
    const response = await request(target.url, {
      method: target.method as Dispatcher.HttpMethod,
      headers: requestHeaders(target),
      body: target.body ?? undefined,
      dispatcher,
      signal,
    });
    const latencyMs = Math.round(performance.now() - started);
    const body = await readBody(response.body);
    // undici's redirect interceptor hands back the last 3xx once the limit is spent, rather than
    // an error: the check would otherwise read "expected status 200, got 302".
    if (target.followRedirects && REDIRECT_STATUSES.has(response.statusCode) && response.headers.location) {
      return { status: 'down', latencyMs, value: response.statusCode, message: TOO_MANY_REDIRECTS };
    }
    const assertions: Assertion[] = target.assertions.some((a) => a.type === 'status_in') ? target.assertions : [{ type: 'status_in', values: [target.expectedStatusCode] }, ...target.assertions];
    const failures = evaluateAssertions(assertions, { status: response.statusCode, latencyMs, body, certificateValidTo, now: now() });
    return {
      status: statusOf(failures),
      latencyMs,
      value: response.statusCode,
      message: failures.length ? failures.map((f) => f.message).join('; ') : `HTTP ${response.statusCode} in ${latencyMs} ms`,
    };
  } catch (error) {
    return { status: 'down', latencyMs: null, value: null, message: describeRequestError(error, target) };
  } finally {
    clearTimeout(timer);
    agent.destroy().catch(() => {});
  }
}
