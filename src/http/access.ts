/**
 * Access control for every route, in one place. Each route declares `config.access`:
 * `public`, `authenticated` (any valid credential) or a Permission. A route registered without
 * one makes start-up fail, so nothing is left open by mistake. The caller becomes
 * `request.actor`, whose tenant id is what handlers pass to services.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../auth/actor.js';
import type { Authenticator, Credentials } from '../auth/authenticator.js';
import type { Permission } from '../auth/roles.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { VigieApp } from './types.js';

export type Access = 'public' | 'authenticated' | Permission;

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  hasResponseSchema: boolean;
  /** Whether the route declares a body (routes without one take none). */
  hasBodySchema: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * The route's scope authenticates itself, once the body is read (Healthchecks' API takes its
     * key from the body too), by calling `app.authorizeRequest`; the access level still applies.
     */
    credentialsInBody?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyInstance {
    /** Every route with its access level: read by tests that walk all routes. */
    routeCatalog: RouteEntry[];
    /** Authenticates the caller and checks the route's access, as every route gets it before its handler. */
    authorizeRequest(request: FastifyRequest, credentials: Credentials): Promise<void>;
  }
}

/** Routes added by plugins (Swagger UI's pages) that are public by nature. */
const PLUGIN_PUBLIC_PREFIXES = ['/docs'];

function bearerTokenOf(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The credentials a request carries in its headers: X-Api-Key, or a Bearer token. */
export function credentialsOf(request: FastifyRequest): Credentials {
  return { apiKey: headerValue(request.headers['x-api-key']), bearerToken: bearerTokenOf(request.headers.authorization) };
}

export function installAccessControl(app: VigieApp, authenticator: Authenticator): void {
  app.decorate('routeCatalog', [] as RouteEntry[]);
  app.decorateRequest('actor', null);

  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Access };
    if (config.access === undefined) {
      if (!PLUGIN_PUBLIC_PREFIXES.some((prefix) => route.url.startsWith(prefix))) {
        throw new Error(`Route ${String(route.method)} ${route.url} declares no config.access`);
      }
      route.config = { ...config, access: 'public' };
    }
    const access = (route.config as { access: Access }).access;
    if (access === 'public' && route.schema) route.schema.security = [];
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      app.routeCatalog.push({ method, url: route.url, access, hasResponseSchema: route.schema?.response !== undefined, hasBodySchema: route.schema?.body !== undefined });
    }
  });

  async function authorizeRequest(request: FastifyRequest, credentials: Credentials): Promise<void> {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return; // unknown URL (404) or open route
    const actor = await authenticator.authenticate(credentials);
    if (access !== 'authenticated' && !actor.permissions.has(access)) {
      throw new ForbiddenError(actor.kind === 'api_key' ? `This API key's scope does not allow this operation (needs "${access}")` : `Your role does not allow this operation (needs "${access}")`);
    }
    request.actor = actor;
  }
  app.decorate('authorizeRequest', authorizeRequest);

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.credentialsInBody) return;
    await authorizeRequest(request, credentialsOf(request));
  });
}

/** The authenticated caller; only called from routes whose access is not `public`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new UnauthorizedError('Not authenticated');
  return request.actor;
}
