/**
 * The Healthchecks ping protocol: `/ping/{uuid}[/start|/fail|/log|/{exit_status}]` and
 * `/ping/{ping_key}/{slug}[/…]` (with `?create=1` to create the check on its first ping), by
 * HEAD, GET or POST, `?rid=<uuid>` pairing a start with its end. Answers are plain text as
 * Healthchecks gives them ("OK", "not found", "invalid url format"). The body (any content
 * type) is kept up to PING_BODY_LIMIT_BYTES, announced in `Ping-Body-Limit`; the rest is read
 * and dropped, never refused. The answer is sent only once the ping is committed.
 *
 * Rate limits (ARCHITECTURE's security rules), answered 429 "rate limit exceeded" with
 * Retry-After, the ping not stored:
 * - PING_RATE_LIMIT_PER_MINUTE pings per check (a job stuck in a loop), by its UUID URL and its
 *   slug URL together (a UUID needs no lookup to be counted; a slug is counted once resolved);
 * - PING_MISS_RATE_LIMIT_PER_MINUTE malformed or unknown ping URLs per client address, past which
 *   that address's misses are answered 429 until the minute ends, so a scanner is told to back
 *   off. A ping to an existing check is never refused by it: one address may be a NAT or a proxy
 *   in front of many hosts (or every client, behind a proxy Vigie does not trust), and one
 *   host's typo must not silence the others' jobs. A miss is known only once looked up, which is
 *   what any ping costs anyway.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { errorResponses, textResponse } from '../http/schemas.js';
import { createWindowCounter } from '../http/window-counter.js';
import type { VigieApp } from '../http/types.js';
import type { PingKind } from '../heartbeats/pings.js';
import type { HeartbeatsService, SlugTarget } from '../heartbeats/heartbeats.service.js';
import type { PingWriter } from '../heartbeats/pings.js';
import { wholeCharacters } from '../heartbeats/ping-body.js';
import type { PingGate } from '../heartbeats/ping-gate.js';

/** What the ping routes use. */
export interface PingRouteServices {
  readonly heartbeats: HeartbeatsService;
  readonly pings: PingWriter;
  /** The per-check limit and counters, shared with e-mail pings. */
  readonly pingGate: PingGate;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[a-z0-9_-]{1,100}$/;

interface ParsedSuffix {
  kind: PingKind;
  exitStatus: number | null;
}

/** `start`, `fail`, `log`, or an exit status 0–255; null for anything else. */
function parseSuffix(suffix: string | undefined): ParsedSuffix | null {
  if (suffix === undefined) return { kind: 'success', exitStatus: null };
  if (suffix === 'start' || suffix === 'fail' || suffix === 'log') return { kind: suffix, exitStatus: null };
  if (/^[0-9]{1,3}$/.test(suffix) && Number(suffix) <= 255) return { kind: 'exit', exitStatus: Number(suffix) };
  return null;
}

interface RawBody {
  text: string;
  size: number;
}

const MINUTE_MS = 60_000;

export function registerPingRoutes(app: VigieApp, services: PingRouteServices, config: Config, clock: Clock): void {
  const limit = config.pingBodyLimitBytes;
  // Per check, shared with e-mail pings; misses are per client address and HTTP's alone.
  const checkPings = services.pingGate.checkPings(config.pingRateLimitPerMinute);
  const clientMisses = createWindowCounter({ limit: config.pingMissRateLimitPerMinute, windowMs: MINUTE_MS, now: () => clock.now() });

  app.register(async (scope) => {
    // Any content type: the body is the job's output, kept as text up to the limit.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => {
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let size = 0;
      payload.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (keptBytes < limit) {
          const part = chunk.subarray(0, limit - keptBytes);
          kept.push(part);
          keptBytes += part.length;
        }
      });
      payload.on('end', () => {
        const bytes = Buffer.concat(kept);
        done(null, { text: (size > limit ? wholeCharacters(bytes) : bytes).toString('utf8'), size } satisfies RawBody);
      });
      payload.on('error', (error) => done(error as Error, undefined));
    });

    // Any origin may ping (Healthchecks' browser examples do), as Healthchecks answers.
    const answer = (reply: FastifyReply, status: number, text: string) =>
      reply.status(status).header('content-type', 'text/plain; charset=utf-8').header('ping-body-limit', String(limit)).header('access-control-allow-origin', '*').send(text);

    const refuse = (reply: FastifyReply, retryAfterSeconds: number, reason: 'check_rate' | 'client_misses') => {
      services.pingGate.refused(reason);
      return answer(reply.header('retry-after', String(retryAfterSeconds)), 429, 'rate limit exceeded');
    };
    const miss = (request: FastifyRequest, reply: FastifyReply, status: 400 | 404) => {
      const blocked = clientMisses.exceeded(request.ip);
      if (blocked) return refuse(reply, blocked, 'client_misses');
      clientMisses.hit(request.ip);
      return answer(reply, status, status === 400 ? 'invalid url format' : 'not found');
    };

    async function handle(request: FastifyRequest, reply: FastifyReply, locate: () => Promise<Located>, suffix: string | undefined) {
      const parsed = parseSuffix(suffix);
      const query = request.query as { rid?: string };
      const rid = query.rid ?? null;
      if (!parsed || (rid !== null && !UUID.test(rid))) return miss(request, reply, 400);
      const located = await locate();
      if (located === 'bad') return miss(request, reply, 400);
      if (located === 'not_found') return miss(request, reply, 404);
      if (located === 'ambiguous') return answer(reply, 409, 'ambiguous slug');
      const { pingUuid } = located;
      const limited = checkPings.hit(pingUuid);
      if (limited) return refuse(reply, limited, 'check_rate');
      const body = request.body as RawBody | undefined;
      const recorded = await services.pings.record({
        pingUuid,
        kind: parsed.kind,
        exitStatus: parsed.exitStatus,
        rid,
        method: request.method,
        remoteAddr: request.ip ?? null,
        userAgent: request.headers['user-agent']?.slice(0, 200) ?? null,
        body: body && body.size > 0 ? body.text : null,
        bodySize: body?.size ?? 0,
      });
      if (recorded === 'not_found') return miss(request, reply, 404);
      services.pingGate.received(recorded);
      // A check made by this ping (`?create=1`) is announced as Healthchecks does.
      return located.created ? answer(reply, 201, 'Created') : answer(reply, 200, 'OK');
    }

    /**
     * A UUID is taken as it stands: no lookup here, the ping writer finds (or misses) the check by
     * its ping UUID in the transaction that stores the ping — one query fewer on the hottest path.
     */
    const byUuid = async (uuid: string): Promise<Located> => (UUID.test(uuid) ? { pingUuid: uuid, created: false } : 'bad');

    async function bySlug(request: FastifyRequest, pingKey: string, slug: string): Promise<Located> {
      if (!SLUG.test(slug)) return 'bad';
      const create = (request.query as { create?: string }).create === '1';
      return services.heartbeats.pingTargetBySlug(pingKey, slug, create);
    }

    const methods = ['GET', 'POST'] as ('GET' | 'POST')[];
    const schema = (summary: string) => ({
      tags: ['pings'],
      summary,
      description: 'HEAD, GET or POST; the body (any content type) is stored with the ping. Query: rid=<uuid> pairs a start with its end; create=1 (slug URLs) creates the check.',
      // Plain text as Healthchecks answers; only a database that cannot serve answers JSON (503).
      response: {
        200: textResponse('OK'),
        201: textResponse('Created (by ?create=1)'),
        400: textResponse('invalid url format'),
        404: textResponse('not found'),
        409: textResponse('ambiguous slug'),
        429: textResponse('rate limit exceeded'),
        ...errorResponses(503),
      },
    });
    // No access log line per ping (two JSON lines each, at thousands of pings a second, would
    // drown the log and cost as much as storing the ping); failures are still logged.
    const options = { config: { access: 'public' as const }, logLevel: 'warn' as const };
    scope.route({
      method: methods,
      url: '/ping/:first',
      ...options,
      schema: schema('Ping a check by its UUID: success'),
      handler: (request, reply) => {
        const { first } = request.params as { first: string };
        return handle(request, reply, () => byUuid(first), undefined);
      },
    });
    scope.route({
      method: methods,
      url: '/ping/:first/:second',
      ...options,
      schema: schema('/ping/{uuid}/{start|fail|log|0-255}, or /ping/{ping_key}/{slug}'),
      handler: (request, reply) => {
        const { first, second } = request.params as { first: string; second: string };
        // `/ping/{uuid}/{suffix}` or `/ping/{ping_key}/{slug}`: a ping key is never a UUID.
        if (UUID.test(first)) return handle(request, reply, () => byUuid(first), second);
        return handle(request, reply, () => bySlug(request, first, second), undefined);
      },
    });
    scope.route({
      method: methods,
      url: '/ping/:first/:second/:third',
      ...options,
      schema: schema('/ping/{ping_key}/{slug}/{start|fail|log|0-255}'),
      handler: (request, reply) => {
        const { first, second, third } = request.params as { first: string; second: string; third: string };
        return handle(request, reply, () => bySlug(request, first, second), third);
      },
    });
    // A browser's preflight before a cross-origin ping (a POST with a JSON body, say): allowed, nothing recorded.
    const preflight = (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .status(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS')
        .header('access-control-allow-headers', 'Content-Type')
        .header('access-control-max-age', '600')
        .send();
    for (const url of ['/ping/:first', '/ping/:first/:second', '/ping/:first/:second/:third']) {
      scope.route({ method: 'OPTIONS', url, ...options, schema: { tags: ['pings'], summary: 'CORS preflight of a ping', response: { 204: Type.Null() } }, handler: preflight });
    }
  });
}

/** The check a ping URL names (its ping UUID, and whether this ping made it), or why there is none. */
type Located = SlugTarget | 'bad';
