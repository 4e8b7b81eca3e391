/**
 * Healthchecks' Management API (v1, v2, v3) over Vigie's heartbeat checks, so that existing
 * scripts, clients and dashboards work by changing only the base URL. Behaviour follows
 * Healthchecks' own hc/api/views.py call by call; the JSON is built in healthchecks/check-dict.ts,
 * the body checked in healthchecks/spec.ts, and keys, errors, bodies and CORS handled as
 * Healthchecks does in healthchecks/scope.ts. A Healthchecks "project" is a Vigie tenant, its API
 * key a Vigie API key (`read-only` keys are Healthchecks' read-only keys).
 *
 * Mount points (HEALTHCHECKS_MOUNTS): `/hc/api/v1|v2|v3/` is all Healthchecks', the base URL to
 * give a client; `/api/v3/` and `/api/v2/` too; `/api/v1/` serves Healthchecks' calls except
 * `channels/`, which is Vigie's own `/api/v1/channels`.
 */
import { sql } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { ChannelsService } from '../alerting/channels.service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { BadgeLinksService } from '../heartbeats/badge-links.js';
import { listHeartbeats, type HeartbeatCheck } from '../heartbeats/heartbeats.repository.js';
import { NEW_CHECK, type HeartbeatInput, type HeartbeatsService } from '../heartbeats/heartbeats.service.js';
import { actorOf } from '../http/access.js';
import type { VigieApp } from '../http/types.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { NotFoundError } from '../errors.js';
import { channelsText, checkDict, djangoSlugify, flipDict, pingDict, tagsText, uniqueKey, type ApiVersion, type Links } from './healthchecks/check-dict.js';
import { HC_RESPONSES, HealthchecksError, installHealthchecksScope, optionsRoute } from './healthchecks/scope.js';
import { parseSpec, type Spec } from './healthchecks/spec.js';
import { V3Badges, V3Channels, V3Check, V3CheckList, V3Flips, V3PingList } from './healthchecks-v3-schemas.js';
import type { TSchema } from 'typebox';
import { errorResponses, textResponse } from '../http/schemas.js';

export { uniqueKey } from './healthchecks/check-dict.js';

/** What the Healthchecks API uses. */
export interface HealthchecksRouteServices {
  readonly heartbeats: HeartbeatsService;
  readonly badges: BadgeLinksService;
  readonly channels: ChannelsService;
  readonly monitors: MonitorsService;
}

export interface HealthchecksMount {
  readonly prefix: string;
  readonly v: ApiVersion;
  /** Leaves out `channels/`, where Vigie's own route of that name lives. */
  readonly withoutChannels?: boolean;
}

export const HEALTHCHECKS_MOUNTS: readonly HealthchecksMount[] = [
  { prefix: '/api/v3', v: 3 },
  { prefix: '/api/v2', v: 2 },
  { prefix: '/api/v1', v: 1, withoutChannels: true },
  { prefix: '/hc/api/v1', v: 1 },
  { prefix: '/hc/api/v2', v: 2 },
  { prefix: '/hc/api/v3', v: 3 },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA1 = /^[0-9a-f]{40}$/;
/** Healthchecks' pings list shows 1,000 pings at most. */
const PINGS_SHOWN = 1000;

/** Every link of an answer starts with the configured PUBLIC_URL, never the request's Host (http/public-url.ts). */
function baseUrl(request: FastifyRequest): string {
  return request.server.publicUrl;
}

const isReadOnly = (request: FastifyRequest) => !actorOf(request).permissions.has('write');
const tenantOf = (request: FastifyRequest) => actorOf(request).tenantId;
const tagList = (text: string) => [...new Set(text.split(' ').filter(Boolean))];

/** Healthchecks' `_update`: the fields given change, the others keep their value (or Healthchecks' defaults for a new check). */
function applySpec(spec: Spec, v: ApiVersion, current?: HeartbeatCheck): HeartbeatInput {
  let name = current?.name ?? '';
  let slug = current?.slug ?? null;
  if (spec.name !== undefined) {
    name = spec.name;
    if (v < 3) slug = djangoSlugify(spec.name) || null; // v1 and v2 derive the slug from the name; v3 never does
  }
  let schedule = current?.schedule ?? null;
  let timeoutSeconds = current?.timeoutSeconds ?? NEW_CHECK.timeoutSeconds;
  if (spec.schedule) schedule = spec.schedule;
  else if (spec.timeout) [schedule, timeoutSeconds] = [null, spec.timeout];
  const keywords = { ...(current?.keywords ?? { startKw: '', successKw: '', failureKw: '', filterSubject: false, filterBody: false, filterHttpBody: false, filterDefaultFail: false }) };
  // `subject` and `subject_fail` are the older names: the subject's success and failure keywords.
  if (spec.subject !== undefined) keywords.successKw = spec.subject;
  if (spec.subject_fail !== undefined) keywords.failureKw = spec.subject_fail;
  if (spec.subject !== undefined || spec.subject_fail !== undefined) keywords.filterSubject = Boolean(keywords.successKw || keywords.failureKw);
  Object.assign(
    keywords,
    Object.fromEntries(
      (
        [
          ['startKw', spec.start_kw],
          ['successKw', spec.success_kw],
          ['failureKw', spec.failure_kw],
          ['filterSubject', spec.filter_subject],
          ['filterBody', spec.filter_body],
          ['filterHttpBody', spec.filter_http_body],
          ['filterDefaultFail', spec.filter_default_fail],
        ] as const
      ).filter(([, value]) => value !== undefined),
    ),
  );
  if (spec.slug !== undefined) slug = spec.slug || null;
  return {
    name,
    slug,
    tags: spec.tags !== undefined ? tagList(spec.tags) : (current?.tags ?? []),
    tagsText: spec.tags !== undefined ? spec.tags : (current?.tagsText ?? null),
    description: spec.desc ?? current?.description ?? '',
    timeoutSeconds,
    graceSeconds: spec.grace ?? current?.graceSeconds ?? NEW_CHECK.graceSeconds,
    schedule,
    tz: spec.tz ?? current?.tz ?? NEW_CHECK.tz,
    manualResume: spec.manual_resume ?? current?.manualResume ?? false,
    methods: spec.methods ?? current?.methods ?? '',
    keywords,
  };
}

/** Healthchecks' `_lookup`: the check `unique` points to; none when a field it names is not in the request. */
function findUnique(checks: HeartbeatCheck[], spec: Spec): HeartbeatCheck | undefined {
  const unique = spec.unique ?? [];
  if (unique.length === 0 || unique.some((field) => spec[field] === undefined)) return undefined;
  const same: Record<(typeof unique)[number], (c: HeartbeatCheck) => boolean> = {
    name: (c) => c.name === spec.name,
    slug: (c) => (c.slug ?? '') === spec.slug,
    tags: (c) => tagsText(c) === spec.tags,
    timeout: (c) => c.timeoutSeconds === spec.timeout,
    grace: (c) => c.graceSeconds === spec.grace,
  };
  return checks.find((c) => unique.every((field) => same[field](c)));
}

/** Healthchecks' flips filters (FlipsFiltersForm): integers, bounded; null for an invalid value. */
function flipsWindow(query: Record<string, string | undefined>, now: number): { from: number | null; to: number | null } | null {
  const integer = (text: string) => (/^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN);
  const timestamp = (text: string | undefined) => (text === undefined ? null : integer(text));
  const start = timestamp(query.start);
  const end = timestamp(query.end);
  const seconds = query.seconds === undefined || query.seconds.trim() === '' ? null : integer(query.seconds);
  const bad = (value: number | null, max: number) => value !== null && !(value >= 0 && value <= max);
  if (bad(start, 1e10) || bad(end, 1e10) || bad(seconds, 31_536_000)) return null;
  let from = start === null ? null : start * 1000;
  if (seconds) from = Math.max(from ?? 0, now - seconds * 1000);
  return { from, to: end === null ? null : end * 1000 };
}

export function registerHealthchecksV3Routes(app: VigieApp, services: HealthchecksRouteServices, db: Db, clock: Clock, bodyMaxDepth: number): void {
  for (const mount of HEALTHCHECKS_MOUNTS) {
    void app.register(
      async (scope) => {
        installHealthchecksScope(scope, bodyMaxDepth);
        registerVersion(scope, mount, services, db, clock);
      },
      { prefix: mount.prefix },
    );
  }
}

function registerVersion(scope: VigieApp, mount: HealthchecksMount, services: HealthchecksRouteServices, db: Db, clock: Clock): void {
  const { v } = mount;
  const tags = [`healthchecks v${v}`];
  const links = (request: FastifyRequest): Links => ({ base: baseUrl(request), apiRoot: `${baseUrl(request)}${mount.prefix}` });
  const channelIdsOf = async (tenantId: string) => (await services.channels.list(tenantId)).map((c) => c.id);

  async function dictOf(request: FastifyRequest, check: HeartbeatCheck, tenantChannelIds?: readonly string[]) {
    const readOnly = isReadOnly(request);
    const channels = readOnly ? '' : channelsText(check, tenantChannelIds ?? (check.channelIds === null ? await channelIdsOf(check.tenantId) : []));
    return checkDict(check, { v, readOnly, links: links(request), now: clock.now(), channels });
  }

  /** A check by UUID (a read-only key may also name it by unique_key); 404 for anything else. */
  async function findCheck(request: FastifyRequest, key: string, byUniqueKey: boolean): Promise<HeartbeatCheck> {
    const tenantId = tenantOf(request);
    if (UUID.test(key)) return services.heartbeats.getByPingUuid(tenantId, key);
    if (byUniqueKey && SHA1.test(key)) {
      const found = (await listHeartbeats(db, tenantId)).find((c) => uniqueKey(c.pingUuid) === key);
      if (found) return found;
    }
    throw new NotFoundError('Check');
  }

  /** Healthchecks' channel list: "*" every channel, "" none, else names or UUIDs, each naming exactly one. */
  async function resolveChannels(tenantId: string, text: string | undefined): Promise<string[] | undefined> {
    if (text === undefined) return undefined;
    const all = await services.channels.list(tenantId);
    if (text === '*') return all.map((c) => c.id);
    if (text === '') return [];
    const chosen = new Set<string>();
    for (const identifier of text.split(',')) {
      if (identifier === '') throw new HealthchecksError(400, 'empty channel identifier');
      const matches = all.filter((c) => c.id === identifier || c.name === identifier);
      if (matches.length === 0) throw new HealthchecksError(400, `invalid channel identifier: ${identifier}`);
      if (matches.length > 1) throw new HealthchecksError(400, `non-unique channel identifier: ${identifier}`);
      chosen.add(matches[0]!.id);
    }
    return [...chosen];
  }

  function specOf(request: FastifyRequest): Spec {
    const parsed = parseSpec(request.hcJson);
    if ('error' in parsed) throw new HealthchecksError(400, parsed.error);
    return parsed.spec;
  }

  /** Creates a check or changes `existing`, channels included (a new check has none unless it names some). */
  async function save(tenantId: string, spec: Spec, existing: HeartbeatCheck | undefined): Promise<HeartbeatCheck> {
    const channelIds = await resolveChannels(tenantId, spec.channels ?? (existing ? undefined : ''));
    const input = applySpec(spec, v, existing);
    const saved = existing ? await services.heartbeats.update(tenantId, existing.id, input) : await services.heartbeats.create(tenantId, input);
    if (channelIds !== undefined) await services.monitors.updateAlerting(tenantId, saved.id, { channelIds });
    return services.heartbeats.get(tenantId, saved.id);
  }

  const config = (access: 'read' | 'write', corsMethods: string) => ({ access, corsMethods, credentialsInBody: true });
  /** `ok`: the 2xx body, for the OpenAPI document (healthchecks-v3-schemas.ts). */
  const schema = (summary: string, ok?: TSchema) => ({ tags, summary, response: ok ? { ...HC_RESPONSES, 200: ok, 201: ok } : HC_RESPONSES });
  type Params = { uuid: string; n: string };

  optionsRoute(scope, '/checks/', 'GET, POST');
  scope.get('/checks/', { config: config('read', 'GET, POST'), schema: schema('List checks (filters: tag, repeatable; slug)', V3CheckList) }, async (request) => {
    const query = request.query as { tag?: string | string[]; slug?: string };
    const tagFilter = query.tag === undefined ? [] : [query.tag].flat();
    const tenantId = tenantOf(request);
    const checks = await listHeartbeats(db, tenantId, { tags: tagFilter, slug: query.slug || undefined });
    const tenantChannelIds = await channelIdsOf(tenantId);
    return { checks: await Promise.all(checks.map((c) => dictOf(request, c, tenantChannelIds))) };
  });
  scope.post('/checks/', { config: config('write', 'GET, POST'), schema: schema('Create a check (or, with unique, change the matching one)', V3Check) }, async (request, reply) => {
    const spec = specOf(request);
    const tenantId = tenantOf(request);
    const existing = findUnique(spec.unique?.length ? await listHeartbeats(db, tenantId) : [], spec);
    const saved = await save(tenantId, spec, existing);
    return reply.status(existing ? 200 : 201).send(await dictOf(request, saved));
  });

  optionsRoute(scope, '/checks/:uuid', 'GET, POST, DELETE');
  scope.get('/checks/:uuid', { config: config('read', 'GET, POST, DELETE'), schema: schema('One check, by UUID (or unique_key)', V3Check) }, async (request) =>
    dictOf(request, await findCheck(request, (request.params as Params).uuid, true)),
  );
  scope.post('/checks/:uuid', { config: config('write', 'GET, POST, DELETE'), schema: schema('Change a check (fields left out keep their value)', V3Check) }, async (request) => {
    const check = await findCheck(request, (request.params as Params).uuid, false);
    const spec = specOf(request);
    return dictOf(request, await save(check.tenantId, spec, check));
  });
  scope.delete('/checks/:uuid', { config: config('write', 'GET, POST, DELETE'), schema: schema('Delete a check; answers with it as it was', V3Check) }, async (request) => {
    const check = await findCheck(request, (request.params as Params).uuid, false);
    const dict = await dictOf(request, check);
    await services.heartbeats.remove(check.tenantId, check.id);
    return dict;
  });

  optionsRoute(scope, '/checks/:uuid/pause', 'POST');
  scope.post('/checks/:uuid/pause', { config: config('write', 'POST'), schema: schema('Pause: no alerts until resumed or pinged', V3Check) }, async (request) => {
    const check = await findCheck(request, (request.params as Params).uuid, false);
    // Already paused: answered as it is, no new flip.
    if (check.status === 'paused') return dictOf(request, check);
    return dictOf(request, await services.heartbeats.pause(check.tenantId, check.id));
  });
  optionsRoute(scope, '/checks/:uuid/resume', 'POST');
  scope.post(
    '/checks/:uuid/resume',
    {
      config: config('write', 'POST'),
      schema: { ...schema('Resume a paused check (status new); 409 when it is not paused', V3Check), response: { ...HC_RESPONSES, 200: V3Check, 409: textResponse('check is not paused') } },
    },
    async (request, reply) => {
      const check = await findCheck(request, (request.params as Params).uuid, false);
      if (check.status !== 'paused') return reply.status(409).header('content-type', 'text/plain; charset=utf-8').send('check is not paused');
      return dictOf(request, await services.heartbeats.resume(check.tenantId, check.id));
    },
  );

  optionsRoute(scope, '/checks/:uuid/pings/', 'GET');
  scope.get('/checks/:uuid/pings/', { config: config('write', 'GET'), schema: schema("A check's pings, newest first (up to 1,000)", V3PingList) }, async (request) => {
    const check = await findCheck(request, (request.params as Params).uuid, false);
    const rows = await db
      .selectFrom('pings')
      .select(['n', 'at', 'kind', 'exit_status', 'rid', 'method', 'remote_addr', 'user_agent', 'body_size', 'duration_ms'])
      .where('monitor_id', '=', check.id)
      .orderBy('n', 'desc')
      .limit(PINGS_SHOWN)
      .execute();
    const options = { links: links(request), uuid: check.pingUuid, scheme: request.protocol };
    return { pings: rows.map((row) => pingDict({ ...row, at: Number(row.at) }, options)) };
  });
  optionsRoute(scope, '/checks/:uuid/pings/:n/body', 'GET');
  scope.get(
    '/checks/:uuid/pings/:n/body',
    { config: config('write', 'GET'), schema: { ...schema("A ping's body as text"), response: { ...HC_RESPONSES, 200: textResponse("The ping's body") } } },
    async (request, reply) => {
      const { uuid, n } = request.params as Params;
      const check = await findCheck(request, uuid, false);
      const ping = /^\d{1,9}$/.test(n) ? await db.selectFrom('pings').select('body').where('monitor_id', '=', check.id).where('n', '=', Number(n)).executeTakeFirst() : undefined;
      if (!ping?.body) throw new NotFoundError('Ping body');
      return reply.header('content-type', 'text/plain; charset=utf-8').send(ping.body);
    },
  );

  optionsRoute(scope, '/checks/:uuid/flips/', 'GET');
  scope.get(
    '/checks/:uuid/flips/',
    {
      config: config('read', 'GET'),
      schema: {
        ...schema("A check's changes of status (start, end, seconds: filters)", V3Flips),
        response: { ...HC_RESPONSES, 200: V3Flips, 400: textResponse('invalid seconds, start or end (empty body)') },
      },
    },
    async (request, reply) => {
      const check = await findCheck(request, (request.params as Params).uuid, true);
      const window = flipsWindow(request.query as Record<string, string | undefined>, clock.now());
      if (!window) return reply.status(400).header('content-type', 'text/plain; charset=utf-8').send('');
      let query = db.selectFrom('monitor_flips').select(['at', 'to_state']).where('monitor_id', '=', check.id).where('tenant_id', '=', check.tenantId);
      if (window.from !== null) query = query.where('at', '>=', window.from);
      if (window.to !== null) query = query.where('at', '<', window.to);
      const rows = await query.orderBy('at', 'desc').execute();
      return { flips: rows.map((row) => flipDict({ at: Number(row.at), to_state: row.to_state })) };
    },
  );

  if (!mount.withoutChannels) {
    optionsRoute(scope, '/channels/', 'GET');
    scope.get('/channels/', { config: config('write', 'GET'), schema: schema('Notification channels (id, name, kind)', V3Channels) }, async (request) => ({
      channels: (await services.channels.list(tenantOf(request))).map((c) => ({ id: c.id, name: c.name, kind: c.kind })),
    }));
  }

  optionsRoute(scope, '/badges/', 'GET');
  scope.get(
    '/badges/',
    { config: config('read', 'GET'), schema: schema('Badge URLs of every tag and of "*" (all checks): svg, json, shields and svg3, json3, shields3', V3Badges) },
    async (request) => ({
      badges: await services.badges.links(tenantOf(request), baseUrl(request)),
    }),
  );

  scope.get(
    '/status/',
    { config: { access: 'public' }, schema: { tags, summary: 'OK when the server and its database answer', response: { 200: textResponse('OK'), ...errorResponses(503) } } },
    async (_request, reply) => {
      await sql`select 1`.execute(db);
      return reply.header('content-type', 'text/plain; charset=utf-8').send('OK');
    },
  );
}
