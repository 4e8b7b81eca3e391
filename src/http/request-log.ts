/**
 * One log line per request (Fastify's own "incoming request" / "request completed" pair is turned
 * off in app.ts): method, path, route pattern, status and time. What can hold a secret is never
 * logged: the query string (tokens, keys) is dropped, and paths that carry a secret (ping UUIDs
 * and keys, badge keys) are logged as their route pattern. High-volume machine traffic (pings,
 * agent ingestion, health probes, Prometheus scrapes) logs at debug, so info stays readable.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VigieApp } from './types.js';

const QUIET_PREFIXES = ['/ping/', '/api/v1/ingest/'];
const QUIET_PATHS = new Set(['/health', '/api/v1/health', '/api/v1/health/liveness', '/api/v1/health/readiness', '/api/monitoring/health', '/metrics']);
/** Paths whose segments are secrets: ping URLs (the UUID, or the ping key) and badge URLs (the badge key). */
const SECRET_PREFIXES = ['/ping/', '/badge/', '/b/'];

const pathOf = (url: string) => url.split('?', 1)[0] ?? '';

/** What the log shows of a request's URL: its path, or its route pattern when the path carries a secret. */
export function loggedUrl(request: FastifyRequest): string {
  const path = pathOf(request.url);
  const secretPrefix = SECRET_PREFIXES.find((prefix) => path.startsWith(prefix));
  if (!secretPrefix) return path;
  return request.is404 ? `${secretPrefix}…` : (request.routeOptions.url ?? `${secretPrefix}…`);
}

export function isQuiet(path: string): boolean {
  return QUIET_PATHS.has(path.length > 1 ? path.replace(/\/+$/, '') : path) || QUIET_PREFIXES.some((prefix) => path.startsWith(prefix));
}

export function installRequestLog(app: VigieApp): void {
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const line = { reqId: request.id, method: request.method, url: loggedUrl(request), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    // The app's logger, not request.log: the hot routes (pings, ingest, /metrics) lower their
    // own request logger to warn, which would hide this line even at LOG_LEVEL=debug.
    if (isQuiet(pathOf(request.url))) app.log.debug(line, 'request');
    else app.log.info(line, 'request');
    done();
  });
}
