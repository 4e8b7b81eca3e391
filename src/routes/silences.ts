import { Type } from 'typebox';
import { MATCHER_FIELDS, MATCHER_OPERATORS, type Matcher } from '../alerting/matchers.js';
import { silenceState, SILENCE_STATES, type Silence, type SilenceState } from '../alerting/silences.service.js';
import type { Actor } from '../auth/actor.js';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, IdParams, NoContent, Timestamp, toIso, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Clock } from '../clock.js';
import type { Services } from '../services.js';

const MatcherSchema = Type.Object(
  {
    field: Type.Enum([...MATCHER_FIELDS], { description: 'What of the monitor to match: its id, kind, name, or one of its tags' }),
    op: Type.Enum([...MATCHER_OPERATORS], { description: '= and != compare; =~ and !~ match a regular expression against the whole value' }),
    value: Type.String({ maxLength: 500 }),
  },
  { additionalProperties: false },
);

const Matchers = Type.Array(MatcherSchema, { minItems: 1, maxItems: 20, description: 'All must match' });
const Comment = Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' });

const SilenceCreate = Type.Object(
  {
    matchers: Matchers,
    starts_at: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
    ends_at: Type.String({ format: 'date-time' }),
    comment: Comment,
    created_by: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Author; default: the caller (user e-mail or API key name)' })),
  },
  { additionalProperties: false },
);

const SilencePatch = Type.Partial(Type.Object({ matchers: Matchers, starts_at: Type.String({ format: 'date-time' }), ends_at: Type.String({ format: 'date-time' }), comment: Comment }), {
  minProperties: 1,
  additionalProperties: false,
});

const SilenceResponse = Type.Object({
  id: Uuid,
  matchers: Type.Array(MatcherSchema),
  starts_at: Timestamp,
  ends_at: Timestamp,
  comment: Type.String(),
  created_by: Type.String(),
  state: Type.Enum([...SILENCE_STATES]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const toResponse = (silence: Silence, now: number) => ({
  id: silence.id,
  matchers: silence.matchers,
  starts_at: toIso(silence.startsAt),
  ends_at: toIso(silence.endsAt),
  comment: silence.comment,
  created_by: silence.createdBy,
  state: silenceState(silence, now),
  created_at: toIso(silence.createdAt),
  updated_at: toIso(silence.updatedAt),
});

async function authorOf(services: Services, actor: Actor): Promise<string> {
  if (actor.userId) return (await services.users.get(actor.tenantId, actor.userId)).email;
  if (actor.apiKeyId) return `API key ${(await services.apiKeys.get(actor.tenantId, actor.apiKeyId)).name}`;
  return 'unknown';
}

export function registerSilenceRoutes(app: VigieApp, services: Services, clock: Clock): void {
  const tags = ['alerting'];
  const notFound = errorResponses(401, 403, 404, 422);

  app.get(
    '/api/v1/silences',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Silences, latest ending first',
        querystring: Type.Object({ state: Type.Optional(Type.Enum([...SILENCE_STATES])) }),
        response: { 200: Type.Array(SilenceResponse), ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => (await services.silences.list(actorOf(request).tenantId, request.query.state as SilenceState | undefined)).map((s) => toResponse(s, clock.now())),
  );

  app.post(
    '/api/v1/silences',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Silence matching monitors: their alerts are recorded but sent to no one', body: SilenceCreate, response: { 201: SilenceResponse, ...errorResponses(401, 403, 422) } },
    },
    async (request, reply) => {
      const body = request.body;
      const actor = actorOf(request);
      const silence = await services.silences.create(actor.tenantId, {
        matchers: body.matchers as Matcher[],
        startsAt: fromIso(body.starts_at),
        endsAt: fromIso(body.ends_at),
        comment: body.comment,
        createdBy: body.created_by ?? (await authorOf(services, actor)),
      });
      return reply.status(201).send(toResponse(silence, clock.now()));
    },
  );

  app.get('/api/v1/silences/:id', { config: { access: 'read' }, schema: { tags, summary: 'One silence', params: IdParams, response: { 200: SilenceResponse, ...notFound } } }, async (request) =>
    toResponse(await services.silences.get(actorOf(request).tenantId, request.params.id), clock.now()),
  );

  app.patch(
    '/api/v1/silences/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Change a silence', params: IdParams, body: SilencePatch, response: { 200: SilenceResponse, ...notFound } } },
    async (request) => {
      const body = request.body;
      const silence = await services.silences.update(actorOf(request).tenantId, request.params.id, {
        matchers: body.matchers as Matcher[] | undefined,
        startsAt: fromIso(body.starts_at),
        endsAt: fromIso(body.ends_at),
        comment: body.comment,
      });
      return toResponse(silence, clock.now());
    },
  );

  app.post(
    '/api/v1/silences/:id/expire',
    { config: { access: 'write' }, schema: { tags, summary: 'End a silence now (kept in the list as expired)', params: IdParams, response: { 200: SilenceResponse, ...notFound } } },
    async (request) => toResponse(await services.silences.expire(actorOf(request).tenantId, request.params.id), clock.now()),
  );

  app.delete(
    '/api/v1/silences/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a silence and its record', params: IdParams, response: { 204: NoContent, ...notFound } } },
    async (request, reply) => {
      await services.silences.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
