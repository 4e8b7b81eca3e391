/**
 * Counts every HTTP answer and its latency for `/metrics`. Routes are labelled by their pattern
 * (`/api/v1/monitors/:id`, never the URL with its ids) so the number of series stays bounded;
 * URLs that match no route share one `unmatched` label, and unusual methods one `other`, so
 * that a client probing random URLs cannot grow Prometheus' series without limit.
 */
import type { VigieApp } from '../http/types.js';
import type { Observability } from './observability.js';

export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function installHttpMetrics(app: VigieApp, observability: Observability): void {
  observability.logTo(app.log);
  app.addHook('onResponse', (request, reply, done) => {
    const method = KNOWN_METHODS.has(request.method) ? request.method : 'other';
    // Fastify's 404 handler has no route pattern; the route of a matched request always has one.
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    observability.httpRequestDone(method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
