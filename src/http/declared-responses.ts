/**
 * Declares, on every route, the error statuses that the shared layers answer whatever the
 * handler does, so that the OpenAPI document (`/openapi.json`) lists every status a route can
 * give without each route repeating them:
 * - 401 (no or a bad credential) and 503 (the authenticator reads the database) on routes that
 *   need a credential; 403 when they need a permission (access.ts);
 * - 422 when the route validates a path, query, header or body (error-handler.ts);
 * - 414 when its path has a parameter: Fastify refuses one longer than `maxParamLength`;
 * - 400, 413 and 415 when the route reads a JSON body: a body it cannot read, one over the
 *   size limit, a content type it does not take. A scope that takes any content type (pings)
 *   has no JSON parser and refuses none.
 * A route declares the rest itself (404 for a missing row, 409, 429, a public route's 503) with
 * `errorResponses(...)`; what it declares wins over what is added here.
 */
import type { RouteOptions } from 'fastify';
import type { Access } from './access.js';
import { errorResponses } from './schemas.js';
import type { VigieApp } from './types.js';

type ErrorStatus = Parameters<typeof errorResponses>[number];

const VALIDATED_PARTS = ['params', 'querystring', 'headers', 'body'] as const;
/** Fastify reads a body on every method but these. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/** The statuses the shared layers can answer on this route. */
export function sharedStatuses(route: Pick<RouteOptions, 'method' | 'schema' | 'url'>, access: Access, parsesJson: boolean): ErrorStatus[] {
  const statuses: ErrorStatus[] = [];
  if (access !== 'public') statuses.push(401, 503);
  if (access !== 'public' && access !== 'authenticated') statuses.push(403);
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  if (VALIDATED_PARTS.some((part) => schema[part] !== undefined)) statuses.push(422);
  if (route.url?.includes(':')) statuses.push(414);
  const readsBody = [route.method].flat().some((method) => !BODYLESS_METHODS.has(method));
  if (readsBody && parsesJson) statuses.push(400, 413, 415);
  return statuses;
}

export function installDeclaredResponses(app: VigieApp): void {
  app.addHook('onRoute', function (route) {
    const schema = route.schema as (RouteOptions['schema'] & { hide?: boolean; response?: Record<string, unknown> }) | undefined;
    if (!schema?.response || schema.hide) return;
    const access = (route.config as { access?: Access } | undefined)?.access ?? 'public';
    const added = errorResponses(...sharedStatuses(route, access, this.hasContentTypeParser('application/json')));
    // A new object: routes may share one schema object, and each gets its own statuses.
    route.schema = { ...schema, response: { ...added, ...schema.response } };
  });
}
