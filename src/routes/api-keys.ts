import { Type } from 'typebox';
import { API_KEY_SCOPES } from '../auth/api-key-tokens.js';
import type { ApiKey } from '../auth/api-keys.repository.js';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, NoContent, NullableTimestamp, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';

const ApiKeyResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  scope: Type.Enum([...API_KEY_SCOPES]),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});

const CreatedApiKeyResponse = Type.Object({
  ...ApiKeyResponse.properties,
  key: Type.String({ description: 'The secret: shown this once, never again' }),
});

const CreateApiKeyBody = Type.Object({
  name: Type.String({ minLength: 1, pattern: '\\S', maxLength: 100 }),
  scope: Type.Optional(Type.Enum([...API_KEY_SCOPES], { description: '`full` (default), `read-only`, or `ingest` (agent ingestion and pings only)' })),
});

function toResponse(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    created_at: toIso(key.createdAt),
    last_used_at: toIsoOrNull(key.lastUsedAt),
    revoked_at: toIsoOrNull(key.revokedAt),
  };
}

export function registerApiKeyRoutes(app: VigieApp, services: Services): void {
  const tags = ['api-keys'];

  app.get(
    '/api/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: { tags, summary: "List the tenant's API keys (never their secrets)", response: { 200: Type.Array(ApiKeyResponse), ...errorResponses(401, 403) } },
    },
    async (request) => (await services.apiKeys.list(actorOf(request).tenantId)).map(toResponse),
  );

  app.post(
    '/api/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create an API key; the response holds the secret, shown only this once',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKeyResponse, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const { apiKey, secret } = await services.apiKeys.create(actorOf(request).tenantId, {
        name: request.body.name,
        scope: request.body.scope ?? 'full',
      });
      return reply.status(201).send({ ...toResponse(apiKey), key: secret });
    },
  );

  app.get(
    '/api/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'One API key (without its secret)', params: IdParams, response: { 200: ApiKeyResponse, ...errorResponses(401, 403, 404, 422) } },
    },
    async (request) => toResponse(await services.apiKeys.get(actorOf(request).tenantId, request.params.id)),
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Revoke an API key (it stops working at once)', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404, 422) } },
    },
    async (request, reply) => {
      await services.apiKeys.revoke(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
