/**
 * `GET /metrics`: Vigie's own metrics in the Prometheus text format, for a Prometheus scrape.
 * Not behind API keys (`access: 'public'`): a scraper holds no tenant credential, and the figures
 * belong to no tenant. With METRICS_TOKEN set, the route checks `Authorization: Bearer <token>`
 * itself and answers 401 otherwise.
 */
import { Type } from 'typebox';
import type { Config } from '../config.js';
import { UnauthorizedError } from '../errors.js';
import { errorResponses, mediaResponse } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { bearerTokenMatches } from '../observability/bearer-token.js';
import type { Services } from '../services.js';

export function registerPrometheusMetricsRoutes(app: VigieApp, services: Services, config: Pick<Config, 'metricsToken'>): void {
  const token = config.metricsToken;
  const { observability } = services;
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      // A scrape every few seconds would fill the access log; failures are still logged.
      logLevel: 'warn',
      schema: {
        tags: ['monitoring'],
        summary: "Vigie's own metrics in the Prometheus text format",
        description: 'For a Prometheus scrape (content type text/plain; version=0.0.4). Needs no API key; when the server sets METRICS_TOKEN, send `Authorization: Bearer <METRICS_TOKEN>`.',
        response: { 200: mediaResponse('text/plain; version=0.0.4', Type.String(), 'Prometheus text exposition format'), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      if (token !== undefined && !bearerTokenMatches(request.headers.authorization, token)) {
        throw new UnauthorizedError(
          request.headers.authorization
            ? 'Wrong metrics token: /metrics wants "Authorization: Bearer <METRICS_TOKEN>" with the token configured on the server'
            : 'This server protects /metrics: send "Authorization: Bearer <METRICS_TOKEN>" (API keys are not accepted here)',
        );
      }
      const text = await observability.scrape();
      return reply.type(observability.contentType).send(text);
    },
  );
}
