/**
 * Vigie's JSON body parser, in place of Fastify's.
 * - An empty body is no body. HTTP clients send `Content-Type: application/json` by default, also
 *   on a POST or DELETE that carries nothing (pause, resume, "check now", "send a test", delete),
 *   and Fastify refused those with "Body cannot be empty". Here an empty (or white-space) body is
 *   absent on a route that takes no body, and `{}` on one that does, so that its schema names the
 *   missing fields (422).
 * - A body nested deeper than the limit (json-depth.ts) is refused before it is parsed: deep
 *   nesting is only ever an attack on recursive code.
 * - Anything else is parsed as Fastify does: secure-json-parse refusing `__proto__` and
 *   `constructor.prototype`, a syntax error answered 422 by the error handler.
 * Routes that read their body otherwise (agent ingestion, pings) set their own parser in their
 * scope and apply the depth limit themselves where they parse JSON.
 */
import secureJson from 'secure-json-parse';
import { jsonNestsDeeperThan, JsonTooDeepError } from './json-depth.js';
import type { VigieApp } from './types.js';

/** A JSON syntax error as Fastify raises it (a SyntaxError with status 400), for the error handler. */
function jsonError(error: unknown): SyntaxError & { statusCode: number } {
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new SyntaxError(message), { statusCode: 400 });
}

export function installJsonBodyParser(app: VigieApp, maxDepth: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string; // parseAs: 'string'
    if (text.trim() === '') {
      done(null, request.routeOptions.schema?.body === undefined ? undefined : {});
      return;
    }
    if (jsonNestsDeeperThan(text, maxDepth)) {
      done(new JsonTooDeepError(maxDepth), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      done(jsonError(error), undefined);
    }
  });
}
