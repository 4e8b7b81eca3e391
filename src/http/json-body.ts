/**
 * The app's JSON body parser: fastify's own (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype` keys; its empty-body and syntax errors), behind the nesting-depth
 * limit of json-depth.ts. Routes that read their body otherwise (agent ingestion, pings) set
 * their own parser in their scope and apply the limit themselves where they parse JSON.
 */
import type { VigieApp } from './types.js';
import { jsonNestsDeeperThan, JsonTooDeepError } from './json-depth.js';

export function installJsonBodyParser(app: VigieApp, maxDepth: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string; // parseAs: 'string'
    if (jsonNestsDeeperThan(text, maxDepth)) return done(new JsonTooDeepError(maxDepth), undefined);
    void parseJson(request, text, done); // fastify's parser answers through `done`, synchronously
  });
}
