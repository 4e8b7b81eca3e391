/**
 * The Healthchecks Management API v3 over Vigie's heartbeat checks, so that existing scripts and
 * tools work by changing only the base URL: `/api/v3/checks/` and friends, the project key in
 * `X-Api-Key` (a Vigie API key; `read-only` keys get the read-only subset and see `unique_key`
 * instead of the check's UUID, as in Healthchecks). Field names and shapes as Healthchecks
 * documents them; `tags` is a space-separated string, times are ISO 8601 with an offset.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { HeartbeatCheck } from '../heartbeats/heartbeats.repository.js';
import { HEARTBEAT_DEFAULTS, slugify, type HeartbeatInput } from '../heartbeats/heartbeats.service.js';
import { listHeartbeats } from '../heartbeats/heartbeats.repository.js';
import { actorOf } from '../http/access.js';
import { errorResponses, textResponse, toIso, toIsoOrNull } from '../http/schemas.js';
import { V3Badges, V3Channels, V3Check, V3CheckList, V3Flips, V3PingList } from './healthchecks-v3-schemas.js';
import type { VigieApp } from '../http/types.js';
import type { ChannelsService } from '../alerting/channels.service.js';
import type { BadgeLinksService } from '../heartbeats/badge-links.js';
import type { HeartbeatsService } from '../heartbeats/heartbeats.service.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';

/** What the Healthchecks API uses. */
export interface HealthchecksRouteServices {
  readonly heartbeats: HeartbeatsService;
  readonly badges: BadgeLinksService;
  readonly channels: ChannelsService;
  readonly monitors: MonitorsService;
}

const UuidParams = Type.Object({ uuid: Type.String({ format: 'uuid' }) });

const CheckFields = {
  name: Type.String({ maxLength: 100 }),
  slug: Type.String({ maxLength: 100, pattern: '^[a-z0-9_-]*$' }),
  tags: Type.String({ maxLength: 500, description: 'Space-separated' }),
  desc: Type.String({ maxLength: 10_000 }),
  timeout: Type.Integer({ minimum: 60, maximum: 31_536_000 }),
  grace: Type.Integer({ minimum: 60, maximum: 31_536_000 }),
  schedule: Type.String({ maxLength: 100 }),
  tz: Type.String({ maxLength: 64 }),
  manual_resume: Type.Boolean(),
  methods: Type.Enum(['', 'POST']),
  channels: Type.String({ maxLength: 10_000, description: '"*" for every channel, "" for none, or comma-separated channel ids' }),
};
const UNIQUE_FIELDS = ['name', 'slug', 'tags', 'timeout', 'grace'] as const;
const CheckBody = Type.Object(
  {
    ...Type.Partial(Type.Object(CheckFields)).properties,
    unique: Type.Optional(Type.Array(Type.Enum([...UNIQUE_FIELDS]), { description: 'Update the check that matches on these fields instead of creating one' })),
  },
  { additionalProperties: false },
);
type CheckBody = Static<typeof CheckBody>;

const tagsOf = (text: string | undefined) => (text ?? '').split(/\s+/).filter(Boolean);
const iso = (ms: number | null) => toIsoOrNull(ms)?.replace(/\.\d{3}Z$/, '+00:00') ?? null;
/** Ping dates keep their fraction of a second, as in Healthchecks' pings list (run times are read from them). */
const isoWithFraction = (ms: number) => toIso(ms).replace(/Z$/, '+00:00');

/** Healthchecks' `unique_key`: a stable id for read-only keys that does not reveal the ping UUID. */
export function uniqueKey(uuid: string): string {
  return createHash('sha1').update(uuid).digest('hex');
}

/** Links start with the configured PUBLIC_URL, never the request's Host (http/public-url.ts). */
function baseUrl(request: FastifyRequest): string {
  return request.server.publicUrl;
}

function toV3(check: HeartbeatCheck, request: FastifyRequest, readOnly: boolean) {
  const base = baseUrl(request);
  const shared = {
    name: check.name,
    slug: check.slug ?? '',
    tags: check.tags.join(' '),
    desc: check.description,
    grace: check.graceSeconds,
    n_pings: check.nPings,
    status: check.status,
    started: check.lastStartAt !== null,
    last_ping: iso(check.lastPingAt),
    // The expected time: alert_after less the grace, while a ping is awaited.
    next_ping: (check.status === 'up' || check.status === 'grace') && check.alertAfter !== null ? iso(check.alertAfter - check.graceSeconds * 1000) : null,
    manual_resume: check.manualResume,
    methods: check.methods,
    badge_url: `${base}/b/2/${check.badgeKey}.svg`,
    ...(check.schedule === null ? { timeout: check.timeoutSeconds } : { schedule: check.schedule, tz: check.tz }),
  };
  if (readOnly) return { ...shared, unique_key: uniqueKey(check.pingUuid) };
  // As in Healthchecks, one UUID names the check in its ping URL and in this API.
  const uuid = check.pingUuid;
  return {
    ...shared,
    uuid,
    ping_url: `${base}/ping/${uuid}`,
    update_url: `${base}/api/v3/checks/${uuid}`,
    pause_url: `${base}/api/v3/checks/${uuid}/pause`,
    resume_url: `${base}/api/v3/checks/${uuid}/resume`,
    channels: check.channelIds === null ? '*' : check.channelIds.join(','),
  };
}

const isReadOnly = (request: FastifyRequest) => !actorOf(request).permissions.has('write');

function inputFrom(body: CheckBody, current?: HeartbeatCheck): HeartbeatInput {
  const name = body.name ?? current?.name ?? '';
  const cron = body.schedule !== undefined ? body.schedule : body.timeout !== undefined ? null : (current?.schedule ?? null);
  return {
    name,
    slug: body.slug !== undefined ? body.slug || null : (current?.slug ?? (slugify(name) || null)),
    tags: body.tags !== undefined ? tagsOf(body.tags) : (current?.tags ?? []),
    description: body.desc ?? current?.description ?? '',
    timeoutSeconds: body.timeout ?? current?.timeoutSeconds ?? HEARTBEAT_DEFAULTS.timeoutSeconds,
    graceSeconds: body.grace ?? current?.graceSeconds ?? HEARTBEAT_DEFAULTS.graceSeconds,
    schedule: cron,
    tz: body.tz ?? current?.tz ?? HEARTBEAT_DEFAULTS.tz,
    manualResume: body.manual_resume ?? current?.manualResume ?? false,
    methods: body.methods ?? current?.methods ?? '',
  };
}

function channelIdsFrom(text: string | undefined): string[] | null | undefined {
  if (text === undefined) return undefined;
  if (text === '*') return null;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A check by UUID, or by unique_key for read-only keys (they never see UUIDs). */
async function findForRequest(db: Db, services: HealthchecksRouteServices, request: FastifyRequest, key: string): Promise<HeartbeatCheck> {
  const tenantId = actorOf(request).tenantId;
  if (/^[0-9a-f]{40}$/.test(key)) {
    // Only the ping UUIDs are read to find the one whose hash this is; then that check alone.
    const rows = await db.selectFrom('heartbeat_checks').select('ping_uuid').where('tenant_id', '=', tenantId).execute();
    const match = rows.find((row) => uniqueKey(row.ping_uuid!) === key);
    if (!match) throw new NotFoundError('Check');
    key = match.ping_uuid!;
  }
  return services.heartbeats.getByPingUuid(tenantId, key);
}

async function slugTaken(db: Db, tenantId: string, slug: string): Promise<boolean> {
  const row = await db.selectFrom('heartbeat_checks').select('monitor_id').where('tenant_id', '=', tenantId).where('slug', '=', slug).executeTakeFirst();
  return row !== undefined;
}

export function registerHealthchecksV3Routes(app: VigieApp, services: HealthchecksRouteServices, db: Db): void {
  const tags = ['healthchecks v3'];

  /**
   * Creates a check or updates `existing` with the fields given, channels included. A new check
   * has no channels unless it names some, as in Healthchecks.
   */
  async function saveCheck(tenantId: string, body: CheckBody, existing?: HeartbeatCheck, input = inputFrom(body, existing)): Promise<HeartbeatCheck> {
    const saved = existing ? await services.heartbeats.update(tenantId, existing.id, input) : await services.heartbeats.create(tenantId, input);
    const channelIds = channelIdsFrom(body.channels ?? (existing ? undefined : ''));
    if (channelIds !== undefined) await services.monitors.updateAlerting(tenantId, saved.id, { channelIds });
    return services.heartbeats.get(tenantId, saved.id);
  }
  const KeyParams = Type.Object({ uuid: Type.String({ pattern: '^([0-9a-fA-F-]{36}|[0-9a-f]{40})$', description: 'Check UUID, or unique_key for read-only keys' }) });

  app.get(
    '/api/v3/checks/',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'List checks (filters: tag, repeatable; slug)',
        querystring: Type.Object({ tag: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])), slug: Type.Optional(Type.String()) }),
        response: { 200: V3CheckList, ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => {
      const q = request.query as { tag?: string | string[]; slug?: string };
      const tagFilter = q.tag === undefined ? [] : Array.isArray(q.tag) ? q.tag : [q.tag];
      const checks = await listHeartbeats(db, actorOf(request).tenantId, { tags: tagFilter, slug: q.slug });
      return { checks: checks.map((c) => toV3(c, request, isReadOnly(request))) };
    },
  );

  app.post(
    '/api/v3/checks/',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a check (or, with unique, update the matching one)', body: CheckBody, response: { 200: V3Check, 201: V3Check, ...errorResponses(401, 403, 409, 422) } },
    },
    async (request, reply) => {
      const body = request.body;
      const tenantId = actorOf(request).tenantId;
      const input = inputFrom(body);
      const unique = body.unique ?? [];
      if (unique.length) {
        const sameTags = (a: readonly string[], b: readonly string[]) => [...a].sort().join(' ') === [...b].sort().join(' ');
        const existing = (await listHeartbeats(db, tenantId)).find((c) =>
          unique.every((field) => {
            if (field === 'name') return c.name === input.name;
            if (field === 'slug') return c.slug === input.slug;
            if (field === 'tags') return sameTags(c.tags, input.tags);
            if (field === 'timeout') return c.timeoutSeconds === input.timeoutSeconds;
            return c.graceSeconds === input.graceSeconds;
          }),
        );
        if (existing) return reply.status(200).send(toV3(await saveCheck(tenantId, body, existing), request, false));
      }
      // A slug derived from the name is only a convenience: a second check of the same name gets none.
      if (body.slug === undefined && input.slug !== null && (await slugTaken(db, tenantId, input.slug))) input.slug = null;
      return reply.status(201).send(toV3(await saveCheck(tenantId, body, undefined, input), request, false));
    },
  );

  app.get(
    '/api/v3/checks/:uuid',
    { config: { access: 'read' }, schema: { tags, summary: 'One check', params: KeyParams, response: { 200: V3Check, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => toV3(await findForRequest(db, services, request, request.params.uuid), request, isReadOnly(request)),
  );

  app.post(
    '/api/v3/checks/:uuid',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Update a check (fields left out keep their value)', params: UuidParams, body: CheckBody, response: { 200: V3Check, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request) => {
      const tenantId = actorOf(request).tenantId;
      const current = await services.heartbeats.getByPingUuid(tenantId, request.params.uuid);
      return toV3(await saveCheck(tenantId, request.body, current), request, false);
    },
  );

  app.delete(
    '/api/v3/checks/:uuid',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a check; answers with it as it was', params: UuidParams, response: { 200: V3Check, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => {
      const tenantId = actorOf(request).tenantId;
      const check = await services.heartbeats.getByPingUuid(tenantId, request.params.uuid);
      await services.heartbeats.remove(tenantId, check.id);
      return toV3(check, request, false);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/v3/checks/:uuid/${action}`,
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: action === 'pause' ? 'Pause: no alerts until resumed or pinged' : 'Resume a paused check (status new); 409 when it is not paused',
          params: UuidParams,
          response: { 200: V3Check, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (request) => {
        const tenantId = actorOf(request).tenantId;
        const check = await services.heartbeats.getByPingUuid(tenantId, request.params.uuid);
        return toV3(await services.heartbeats[action](tenantId, check.id), request, false);
      },
    );
  }

  app.get(
    '/api/v3/checks/:uuid/pings/',
    { config: { access: 'write' }, schema: { tags, summary: "A check's pings, newest first (up to 1,000)", params: UuidParams, response: { 200: V3PingList, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => {
      const check = await services.heartbeats.getByPingUuid(actorOf(request).tenantId, request.params.uuid);
      const rows = await db.selectFrom('pings').selectAll().where('monitor_id', '=', check.id).orderBy('n', 'desc').limit(1000).execute();
      const base = baseUrl(request);
      return {
        pings: rows.map((p) => ({
          type: p.kind === 'exit' ? (p.exit_status === 0 ? 'success' : 'fail') : p.kind,
          date: isoWithFraction(p.at),
          n: p.n,
          scheme: request.protocol,
          remote_addr: p.remote_addr ?? '',
          method: p.method,
          ua: p.user_agent ?? '',
          rid: p.rid,
          duration: p.duration_ms === null ? undefined : p.duration_ms / 1000,
          exitstatus: p.exit_status,
          ...(p.body_size > 0 && { body_url: `${base}/api/v3/checks/${check.pingUuid}/pings/${p.n}/body` }),
        })),
      };
    },
  );

  app.get(
    '/api/v3/checks/:uuid/pings/:n/body',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: "A ping's body as text",
        params: Type.Object({ uuid: Type.String({ format: 'uuid' }), n: Type.Integer({ minimum: 1 }) }),
        response: { 200: textResponse('The body as sent'), ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const check = await services.heartbeats.getByPingUuid(actorOf(request).tenantId, request.params.uuid);
      const ping = await db.selectFrom('pings').select('body').where('monitor_id', '=', check.id).where('n', '=', request.params.n).executeTakeFirst();
      if (!ping || ping.body === null) throw new NotFoundError('Ping body');
      return reply.header('content-type', 'text/plain; charset=utf-8').send(ping.body);
    },
  );

  app.get(
    '/api/v3/checks/:uuid/flips/',
    { config: { access: 'read' }, schema: { tags, summary: "A check's changes between up and down", params: KeyParams, response: { 200: V3Flips, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => {
      const check = await findForRequest(db, services, request, request.params.uuid);
      const rows = await db.selectFrom('monitor_flips').select(['at', 'to_state']).where('monitor_id', '=', check.id).where('to_state', 'in', ['up', 'down']).orderBy('at', 'desc').execute();
      return rows.map((f) => ({ timestamp: iso(f.at)!, up: f.to_state === 'up' ? 1 : 0 }));
    },
  );

  app.get(
    '/api/v3/badges/',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Badge URLs of every tag, and of "*" (all checks): svg, json, shields (two states) and svg3, json3, shields3 (up, late, down)',
        response: { 200: V3Badges, ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ badges: await services.badges.links(actorOf(request).tenantId, baseUrl(request)) }),
  );

  app.get(
    '/api/v3/channels/',
    { config: { access: 'write' }, schema: { tags, summary: 'Notification channels (id, name, kind)', response: { 200: V3Channels, ...errorResponses(401, 403) } } },
    async (request) => ({
      channels: (await services.channels.list(actorOf(request).tenantId)).map((c) => ({ id: c.id, name: c.name, kind: c.kind })),
    }),
  );
}
