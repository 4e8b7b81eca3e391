import { Type } from 'typebox';
import type { Tenant } from '../auth/tenants.repository.js';
import { errorResponses, IdParams, Timestamp, toIso, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';
import { CreateUserBody, toUserResponse, UserResponse } from './user-schemas.js';

const TenantResponse = Type.Object({ id: Uuid, name: Type.String(), created_at: Timestamp });

const CreateTenantBody = Type.Object({
  name: Type.String({ minLength: 1, pattern: '\\S', maxLength: 200 }),
  id: Type.Optional(Type.String({ format: 'uuid', description: 'Chosen by the server when omitted' })),
});

const toResponse = (tenant: Tenant) => ({ id: tenant.id, name: tenant.name, created_at: toIso(tenant.createdAt) });

/** Superuser routes: the only ones that reach across tenants. */
export function registerTenantRoutes(app: VigieApp, services: Services): void {
  const tags = ['tenants'];
  const config = { access: 'superuser' as const };

  app.get('/api/v1/tenants', { config, schema: { tags, summary: 'Every tenant (superuser)', response: { 200: Type.Array(TenantResponse), ...errorResponses(401, 403) } } }, async () =>
    (await services.tenants.list()).map(toResponse),
  );

  app.post(
    '/api/v1/tenants',
    {
      config,
      schema: { tags, summary: 'Create a tenant with default settings (superuser)', body: CreateTenantBody, response: { 201: TenantResponse, ...errorResponses(401, 403, 409, 422) } },
    },
    async (request, reply) => reply.status(201).send(toResponse(await services.tenants.create(request.body))),
  );

  app.get(
    '/api/v1/tenants/:id',
    { config, schema: { tags, summary: 'One tenant (superuser)', params: IdParams, response: { 200: TenantResponse, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => toResponse(await services.tenants.get(request.params.id)),
  );

  app.get(
    '/api/v1/tenants/:id/users',
    {
      config,
      schema: { tags, summary: "A tenant's users (superuser)", params: IdParams, response: { 200: Type.Array(UserResponse), ...errorResponses(401, 403, 404, 422) } },
    },
    async (request) => {
      await services.tenants.get(request.params.id);
      return (await services.users.list(request.params.id)).map(toUserResponse);
    },
  );

  app.post(
    '/api/v1/tenants/:id/users',
    {
      config,
      schema: {
        tags,
        summary: 'Add a user to any tenant (superuser)',
        params: IdParams,
        body: CreateUserBody,
        response: { 201: UserResponse, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const user = await services.users.create(request.params.id, {
        email: request.body.email,
        password: request.body.password,
        role: request.body.role ?? 'admin',
        isSuperuser: request.body.is_superuser,
      });
      return reply.status(201).send(toUserResponse(user));
    },
  );
}
