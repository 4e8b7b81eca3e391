/** Seed 000's /api/v1/http-targets, with the request options and assertions beyond the seed. */
import { Type, type Static } from 'typebox';
import { ASSERTION_TYPES, type Assertion } from './assertions.js';
import { HEADER_MASK, maskCredentialHeaders } from './credential-headers.js';
import { HTTP_DEFAULTS, MIN_CHECK_INTERVAL_SECONDS, type HttpAuthInput, type HttpTarget, type HttpTargetInput, type HttpTargetsService } from './http-targets.service.js';
import { actorOf } from '../../http/access.js';
import { errorResponses, IdParams, NoContent, Nullable, NullableTimestamp, Timestamp, toIso, toIsoOrNull, Uuid } from '../../http/schemas.js';
import type { VigieApp } from '../../http/types.js';
import { MONITOR_STATES } from '../../monitors/kinds.js';
import type { MonitorsService } from '../../monitors/monitors.service.js';
import { ResultResponse, toResultResponse } from '../../routes/monitors.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const AssertionSchema = Type.Object(
  {
    type: Type.Enum([...ASSERTION_TYPES]),
    severity: Type.Optional(Type.Enum(['down', 'warning'], { description: 'What a failure means; down by default' })),
    values: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'status_in' })),
    ms: Type.Optional(Type.Integer({ minimum: 1, description: 'response_time_under' })),
    value: Type.Optional(Type.Unknown({ description: 'body_contains / body_not_contains (a string), json_path_equals (any JSON value)' })),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'json_path_*: e.g. $.status or $.items[0].id' })),
    pattern: Type.Optional(Type.String({ maxLength: 500, description: 'json_path_matches: a regular expression' })),
    days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'certificate_valid_for' })),
  },
  { additionalProperties: false },
);

const AuthInput = Nullable(
  Type.Object(
    {
      type: Type.Enum(['basic', 'bearer']),
      username: Type.Optional(Type.String({ maxLength: 500 })),
      password: Type.Optional(Type.String({ maxLength: 500, description: 'Write-only; required unless a PATCH keeps the stored one' })),
      token: Type.Optional(Type.String({ maxLength: 4000, description: 'Write-only; required unless a PATCH keeps the stored one' })),
    },
    { additionalProperties: false },
  ),
);

// No `default` keywords here: these schemas also validate PATCH bodies, where a filled-in
// default would overwrite the stored value. The service applies HTTP_DEFAULTS on creation.
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  method: Type.Enum([...METHODS], { description: `default ${HTTP_DEFAULTS.method}` }),
  expected_status_code: Type.Integer({ minimum: 100, maximum: 599, description: `default ${HTTP_DEFAULTS.expectedStatusCode}` }),
  timeout_seconds: Type.Integer({ minimum: 1, maximum: 120, description: `default ${HTTP_DEFAULTS.timeoutSeconds}` }),
  check_interval_seconds: Type.Integer({ minimum: MIN_CHECK_INTERVAL_SECONDS, maximum: 86_400, description: `default ${HTTP_DEFAULTS.checkIntervalSeconds}` }),
  is_active: Type.Boolean({ description: `default ${HTTP_DEFAULTS.isActive}` }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }),
  headers: Type.Record(Type.String({ maxLength: 200 }), Nullable(Type.String({ maxLength: 8000 })), {
    description: `Credential headers (Authorization, Cookie, X-API-Key, names with token, secret, key, auth, password or session) are write-only: answered as "${HEADER_MASK}", kept by a PATCH that leaves them out or sends "${HEADER_MASK}" back; null removes a header`,
  }),
  body: Nullable(Type.String({ maxLength: 65_536 })),
  auth: AuthInput,
  follow_redirects: Type.Boolean(),
  tls_skip_verify: Type.Boolean({ description: 'Accept self-signed or invalid certificates (the expiry is still read)' }),
  assertions: Type.Array(AssertionSchema, { maxItems: 20 }),
  failure_threshold: Nullable(Type.Integer({ minimum: 1, maximum: 100 })),
  recovery_threshold: Type.Integer({ minimum: 1, maximum: 100 }),
};

const CreateBody = Type.Object(
  {
    name: fields.name,
    url: fields.url,
    method: Type.Optional(fields.method),
    expected_status_code: Type.Optional(fields.expected_status_code),
    timeout_seconds: Type.Optional(fields.timeout_seconds),
    check_interval_seconds: Type.Optional(fields.check_interval_seconds),
    is_active: Type.Optional(fields.is_active),
    tags: Type.Optional(fields.tags),
    headers: Type.Optional(fields.headers),
    body: Type.Optional(fields.body),
    auth: Type.Optional(fields.auth),
    follow_redirects: Type.Optional(fields.follow_redirects),
    tls_skip_verify: Type.Optional(fields.tls_skip_verify),
    assertions: Type.Optional(fields.assertions),
    failure_threshold: Type.Optional(fields.failure_threshold),
    recovery_threshold: Type.Optional(fields.recovery_threshold),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Partial(Type.Object(fields), { minProperties: 1, additionalProperties: false });

const TargetResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  url: Type.String(),
  method: Type.String(),
  expected_status_code: Type.Integer(),
  timeout_seconds: Type.Integer(),
  check_interval_seconds: Type.Integer(),
  is_active: Type.Boolean(),
  tags: Type.Array(Type.String()),
  headers: Type.Record(Type.String(), Type.String(), { description: `Credential headers' values are masked ("${HEADER_MASK}")` }),
  body: Nullable(Type.String()),
  auth: Nullable(Type.Object({ type: Type.String(), username: Type.Optional(Type.String()) }, { description: 'Passwords and tokens are never returned' })),
  follow_redirects: Type.Boolean(),
  tls_skip_verify: Type.Boolean(),
  assertions: Type.Array(Type.Object({}, { additionalProperties: true })),
  failure_threshold: Nullable(Type.Integer()),
  recovery_threshold: Type.Integer(),
  state: Type.Enum([...MONITOR_STATES]),
  last_checked_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});

const CheckResponse = Type.Object({ ...ResultResponse.properties, state: Type.Enum([...MONITOR_STATES]) });

function toAuth(auth: Static<typeof AuthInput> | undefined): HttpAuthInput | null | undefined {
  if (auth === undefined || auth === null) return auth;
  // Missing secrets stay missing: the service keeps the stored one or asks for it.
  return auth.type === 'basic' ? { type: 'basic', username: auth.username, password: auth.password } : { type: 'bearer', token: auth.token };
}

function toInput(body: Partial<Static<typeof PatchBody>>): Partial<HttpTargetInput> {
  return {
    name: body.name,
    url: body.url,
    method: body.method,
    expectedStatusCode: body.expected_status_code,
    timeoutSeconds: body.timeout_seconds,
    checkIntervalSeconds: body.check_interval_seconds,
    isActive: body.is_active,
    tags: body.tags,
    headers: body.headers,
    body: body.body,
    auth: toAuth(body.auth),
    followRedirects: body.follow_redirects,
    tlsSkipVerify: body.tls_skip_verify,
    assertions: body.assertions as Assertion[] | undefined,
    failureThreshold: body.failure_threshold,
    recoveryThreshold: body.recovery_threshold,
  };
}

function toResponse(t: HttpTarget) {
  return {
    id: t.monitorId,
    name: t.monitor.name,
    url: t.url,
    method: t.method,
    expected_status_code: t.expectedStatusCode,
    timeout_seconds: t.timeoutSeconds,
    check_interval_seconds: t.monitor.intervalSeconds ?? HTTP_DEFAULTS.checkIntervalSeconds,
    is_active: t.monitor.isActive,
    tags: t.monitor.tags,
    headers: maskCredentialHeaders(t.headers),
    body: t.body,
    auth: t.auth && (t.auth.type === 'basic' ? { type: 'basic', username: t.auth.username } : { type: 'bearer' }),
    follow_redirects: t.followRedirects,
    tls_skip_verify: t.tlsSkipVerify,
    assertions: t.assertions as unknown as Record<string, unknown>[],
    failure_threshold: t.monitor.failureThreshold,
    recovery_threshold: t.monitor.recoveryThreshold,
    state: t.monitor.state,
    last_checked_at: toIsoOrNull(t.monitor.lastCheckedAt),
    created_at: toIso(t.monitor.createdAt),
    updated_at: toIso(t.monitor.updatedAt),
  };
}

export function registerHttpTargetRoutes(app: VigieApp, services: { httpTargets: HttpTargetsService; monitors: MonitorsService }): void {
  const tags = ['http-targets'];
  const byId = errorResponses(401, 403, 404, 422);

  app.post(
    '/api/v1/http-targets',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Create an HTTP target; the same URL twice in a tenant is a 409 naming the existing one',
        body: CreateBody,
        response: { 201: Type.Object({ id: Uuid }), ...errorResponses(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const input = toInput(request.body) as HttpTargetInput;
      const id = await services.httpTargets.create(actorOf(request).tenantId, input);
      return reply.status(201).send({ id });
    },
  );

  app.get(
    '/api/v1/http-targets',
    { config: { access: 'read' }, schema: { tags, summary: "The tenant's HTTP targets", response: { 200: Type.Array(TargetResponse), ...errorResponses(401, 403) } } },
    async (request) => (await services.httpTargets.list(actorOf(request).tenantId)).map(toResponse),
  );

  app.get('/api/v1/http-targets/:id', { config: { access: 'read' }, schema: { tags, summary: 'One HTTP target', params: IdParams, response: { 200: TargetResponse, ...byId } } }, async (request) =>
    toResponse(await services.httpTargets.get(actorOf(request).tenantId, request.params.id)),
  );

  app.patch(
    '/api/v1/http-targets/:id',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Change some of an HTTP target', params: IdParams, body: PatchBody, response: { 200: TargetResponse, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request) => toResponse(await services.httpTargets.update(actorOf(request).tenantId, request.params.id, toInput(request.body))),
  );

  app.delete(
    '/api/v1/http-targets/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete an HTTP target and its history', params: IdParams, response: { 204: NoContent, ...byId } } },
    async (request, reply) => {
      await services.httpTargets.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/http-targets/:id/check',
    { config: { access: 'write' }, schema: { tags, summary: 'Run the check now and return its result', params: IdParams, response: { 200: CheckResponse, ...byId } } },
    async (request) => {
      const tenantId = actorOf(request).tenantId;
      const result = await services.httpTargets.checkNow(tenantId, request.params.id);
      const monitor = await services.monitors.get(tenantId, request.params.id);
      return { ...toResultResponse(result), state: monitor.state };
    },
  );
}
