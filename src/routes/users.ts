import { Type } from 'typebox';
import type { Actor } from '../auth/actor.js';
import { ConflictError, ForbiddenError } from '../errors.js';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, NoContent } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';
import { CreateUserBody, toUserResponse, UpdateUserBody, UserResponse } from './user-schemas.js';

/** Only a superuser may make (or unmake) another superuser. */
export function assertMaySetSuperuser(actor: Actor, requested: boolean | undefined): void {
  if (requested !== undefined && !actor.permissions.has('superuser')) {
    throw new ForbiddenError('Only a superuser may set is_superuser');
  }
}

/**
 * Only a superuser may change or delete a superuser: a tenant admin (or a full API key) who could
 * reset a superuser's password would log in as them and reach every tenant.
 */
async function assertMayManage(services: Services, actor: Actor, userId: string): Promise<void> {
  if (actor.permissions.has('superuser')) return;
  const target = await services.users.get(actor.tenantId, userId);
  if (target.isSuperuser) throw new ForbiddenError('Only a superuser may change or delete a superuser');
}

export function registerUserRoutes(app: VigieApp, services: Services): void {
  const tags = ['users'];

  app.get(
    '/api/v1/users',
    { config: { access: 'admin' }, schema: { tags, summary: "The tenant's users", response: { 200: Type.Array(UserResponse), ...errorResponses(401, 403) } } },
    async (request) => (await services.users.list(actorOf(request).tenantId)).map(toUserResponse),
  );

  app.post(
    '/api/v1/users',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Add a user to the tenant', body: CreateUserBody, response: { 201: UserResponse, ...errorResponses(401, 403, 409, 422) } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      assertMaySetSuperuser(actor, request.body.is_superuser);
      const user = await services.users.create(actor.tenantId, {
        email: request.body.email,
        password: request.body.password,
        role: request.body.role ?? 'member',
        isSuperuser: request.body.is_superuser,
      });
      return reply.status(201).send(toUserResponse(user));
    },
  );

  app.get(
    '/api/v1/users/:id',
    { config: { access: 'admin' }, schema: { tags, summary: 'One user', params: IdParams, response: { 200: UserResponse, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => toUserResponse(await services.users.get(actorOf(request).tenantId, request.params.id)),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Change a user's role, password or active flag",
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: UserResponse, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      assertMaySetSuperuser(actor, request.body.is_superuser);
      await assertMayManage(services, actor, request.params.id);
      const demotesSelf = request.body.is_active === false || (request.body.role !== undefined && request.body.role !== 'admin');
      if (actor.userId === request.params.id && demotesSelf) {
        throw new ConflictError('You cannot disable yourself or drop your own admin role; ask another admin');
      }
      const user = await services.users.update(actor.tenantId, request.params.id, {
        role: request.body.role,
        password: request.body.password,
        isActive: request.body.is_active,
        isSuperuser: request.body.is_superuser,
      });
      return toUserResponse(user);
    },
  );

  app.delete(
    '/api/v1/users/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Delete a user', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      if (actor.userId === request.params.id) throw new ConflictError('You cannot delete your own user');
      await assertMayManage(services, actor, request.params.id);
      await services.users.remove(actor.tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
