/**
 * Vigie's JSON body parser, in place of Fastify's: an empty body is no body. HTTP clients send
 * `Content-Type: application/json` by default, also on a POST or DELETE that carries nothing
 * (pause, resume, "check now", "send a test", delete), and Fastify refused those with "Body
 * cannot be empty". Here an empty (or white-space) body is absent on a route that takes no body,
 * and `{}` on one that does, so that its schema names the missing fields (422). Anything else is
 * parsed as Fastify does: secure-json-parse refusing `__proto__` and `constructor.prototype`, a
 * syntax error answered 422 by the error handler.
 */
import secureJson from 'secure-json-parse';
import type { VigieApp } from './types.js';

/** A JSON syntax error as Fastify raises it (a SyntaxError with status 400), for the error handler. */
function jsonError(error: unknown): SyntaxError & { statusCode: number } {
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new SyntaxError(message), { statusCode: 400 });
}

export function installJsonBodyParser(app: VigieApp): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, request.routeOptions.schema?.body === undefined ? undefined : {});
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      done(jsonError(error), undefined);
    }
  });
}
