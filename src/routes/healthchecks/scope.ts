/**
 * What makes a Fastify scope answer as Healthchecks' API does (hc/api/decorators.py):
 * - the body is JSON whatever the Content-Type says (its documentation uses `curl --data`,
 *   which sends a form type); an empty body is no body; bad JSON is 400 "could not parse
 *   request body", and a body that is not an object 400 "json validation error: value is not an
 *   object";
 * - the key comes from `X-Api-Key`, or from `api_key` in the body of a call that writes; no key
 *   is 401 "missing api key", an unknown one (or a read-only key where writing) 401 "wrong api
 *   key". A Vigie bearer token works too;
 * - errors are `{"error": …}`; a check that is not the caller's is a 404 (`{"detail": "Check not
 *   found"}` as well, Vigie's shape, so it reads like any missing id);
 * - CORS as its `cors` decorator: `Access-Control-Allow-Origin: *`, and OPTIONS answered 204.
 */
import { jsonNestsDeeperThan, JsonTooDeepError } from '../../http/json-depth.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { credentialsOf } from '../../http/access.js';
import type { VigieApp } from '../../http/types.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The methods a Healthchecks URL answers, for its CORS headers. */
    corsMethods?: string;
  }
  interface FastifyRequest {
    /** The Healthchecks call's JSON body; {} when there is none. */
    hcJson: Record<string, unknown>;
  }
}

/** An answer of Healthchecks' own: a status and an `error` text. */
export class HealthchecksError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
  ) {
    super(error);
  }
}

const ANY_JSON = Type.Unknown({ description: "Healthchecks' JSON answer" });
/** Response schemas for Healthchecks' routes: any JSON (the shapes are Healthchecks', documented in its API docs). */
export const HC_RESPONSES = { 200: ANY_JSON, 201: ANY_JSON, 400: ANY_JSON, 401: ANY_JSON, 404: ANY_JSON, 409: ANY_JSON };

function cors(reply: FastifyReply, methods: string): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('access-control-allow-headers', 'X-Api-Key')
    .header('access-control-allow-methods', `${methods}, OPTIONS`)
    .header('access-control-max-age', '600');
}

function parseBody(request: FastifyRequest, maxDepth: number): Record<string, unknown> {
  const raw = request.body;
  // Healthchecks reads a body on POST only; a DELETE's is ignored.
  if (request.method !== 'POST' || typeof raw !== 'string' || raw === '') return {};
  // The app's depth limit (BODY_MAX_DEPTH) holds here too, in Healthchecks' error shape.
  if (jsonNestsDeeperThan(raw, maxDepth)) throw new HealthchecksError(400, new JsonTooDeepError(maxDepth).message);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HealthchecksError(400, 'could not parse request body');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HealthchecksError(400, 'json validation error: value is not an object');
  return json as Record<string, unknown>;
}

async function authorize(scope: VigieApp, request: FastifyRequest): Promise<void> {
  const credentials = credentialsOf(request);
  // Only a call that writes takes its key from the body (Healthchecks' `authorize`, not `authorize_read`).
  if (credentials.apiKey === undefined && request.routeOptions.config.access === 'write' && 'api_key' in request.hcJson) credentials.apiKey = String(request.hcJson.api_key);
  if (!credentials.apiKey && !credentials.bearerToken) throw new HealthchecksError(401, 'missing api key');
  try {
    await scope.authorizeRequest(request, credentials);
  } catch (error) {
    if (error instanceof UnauthorizedError || error instanceof ForbiddenError) throw new HealthchecksError(401, 'wrong api key');
    throw error;
  }
}

function sendError(reply: FastifyReply, status: number, error: string, detail?: string) {
  return reply.status(status).send(detail === undefined ? { error } : { detail, error });
}

/** Makes `scope` (a plugin's own instance) a Healthchecks API scope. */
export function installHealthchecksScope(scope: VigieApp, maxDepth: number): void {
  scope.decorateRequest('hcJson', null as unknown as Record<string, unknown>);
  // Answers go out as check-dict.ts builds them: the routes' response schemas only document them.
  scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  scope.addHook('onRequest', async (request, reply) => {
    const methods = request.routeOptions.config.corsMethods;
    if (methods) cors(reply, methods);
  });
  scope.addHook('preValidation', async (request) => {
    request.hcJson = parseBody(request, maxDepth);
    if (request.routeOptions.config.access !== 'public') await authorize(scope, request);
  });

  scope.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof HealthchecksError) return sendError(reply, error.statusCode, error.error);
    if (error instanceof NotFoundError) return sendError(reply, 404, 'not found', error.message);
    if (error instanceof ValidationError) {
      const [first] = error.detail as { loc: (string | number)[]; msg: string }[];
      return sendError(reply, 400, `json validation error: ${first ? `${String(first.loc.at(-1))}: ${first.msg}` : 'invalid value'}`);
    }
    if (error instanceof ConflictError) return sendError(reply, 409, error.message);
    if (error instanceof AppError) return sendError(reply, error.statusCode, error.message);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'request body is too large');
    throw error; // the app's handler: 503 for an unavailable database, 500 otherwise
  });
}

/** The OPTIONS route of a Healthchecks URL: 204 with its CORS headers. */
export function optionsRoute(scope: VigieApp, url: string, methods: string): void {
  scope.options(url, { config: { access: 'public', corsMethods: methods }, schema: { tags: ['healthchecks'], summary: 'CORS preflight', response: { 204: Type.Null() } } }, (_request, reply) => {
    void reply.status(204).send(null);
  });
}
