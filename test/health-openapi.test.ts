/**
 * Health, readiness (database, and Redis when configured) and the OpenAPI description: what
 * load balancers, orchestrators and API clients read without a credential.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadinessProbe } from '../src/health/probes.js';
import { createTestApp, type TestAppOptions, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const LIVENESS_PATHS = ['/api/v1/health', '/health', '/api/v1/health/liveness'];

/** Routes the API description does not describe: itself and Swagger UI's pages. */
const isDocumentationRoute = (url: string) => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/');

/** `/api/v1/users/:id` as OpenAPI writes it: `/api/v1/users/{id}`. */
// A trailing wildcard (the HTTP deposit's file path) is `{*}` in the document, as @fastify/swagger writes it.
const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\/\*$/, '/{*}');

describe.each(TEST_DIALECTS)('health and OpenAPI on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(options: TestAppOptions = {}): Promise<TestContext> {
    ctx = await createTestApp(dialect, options);
    return ctx;
  }

  async function readiness(ctx: TestContext) {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/health/readiness' });
    return { status: response.statusCode, body: response.json() };
  }

  describe('liveness', () => {
    it.each(LIVENESS_PATHS)('%s answers exactly {"status":"ok"} without a credential', async (url) => {
      const ctx = await start();
      const response = await ctx.app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toBe('{"status":"ok"}');
    });

    it('stays ok when the database is gone: liveness is about the process only', async () => {
      const ctx = await start();
      await ctx.database.close();
      const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/health' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
    });
  });

  describe('readiness', () => {
    it('is ok when the database answers, without a credential', async () => {
      const ctx = await start();
      expect(await readiness(ctx)).toEqual({ status: 200, body: { status: 'ok', checks: { database: { status: 'ok' } } } });
    });

    it('is 503 naming the database once the database is gone', async () => {
      const ctx = await start();
      await ctx.database.close();
      const { status, body } = await readiness(ctx);
      expect(status).toBe(503);
      expect(body.status).toBe('unavailable');
      // Kysely's own error once its driver is closed, on either dialect.
      expect(body.checks).toEqual({ database: { status: 'down', error: 'driver has already been destroyed' } });
    });

    describe.runIf(Boolean(process.env.TEST_REDIS_URL))('with a real Redis', () => {
      it('checks Redis too when REDIS_URL is set', async () => {
        const ctx = await start({ env: { REDIS_URL: process.env.TEST_REDIS_URL! } });
        expect(await readiness(ctx)).toEqual({ status: 200, body: { status: 'ok', checks: { database: { status: 'ok' }, redis: { status: 'ok' } } } });
      });
    });

    it('is 503 when Redis does not answer, and says why', async () => {
      const ctx = await start({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
      const { status, body } = await readiness(ctx);
      expect(status).toBe(503);
      expect(body.status).toBe('unavailable');
      // ioredis's answer to a refused connection when it may not retry.
      expect(body.checks).toEqual({ database: { status: 'ok' }, redis: { status: 'down', error: 'Connection is closed.' } });
    });

    it('reports each given probe by name, a failure of any kind as down', async () => {
      const probes: ReadinessProbe[] = [
        { name: 'fine', check: async () => {} },
        { name: 'broken', check: async () => Promise.reject(new Error('disk on fire')) },
        // A non-Error rejection is still a "down", not a 500.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point: a non-Error rejection
        { name: 'odd', check: async () => Promise.reject('just a string') },
      ];
      const ctx = await start({ probes });
      expect(await readiness(ctx)).toEqual({
        status: 503,
        body: {
          status: 'unavailable',
          checks: { fine: { status: 'ok' }, broken: { status: 'down', error: 'disk on fire' }, odd: { status: 'down', error: 'just a string' } },
        },
      });
    });
  });

  describe('OpenAPI', () => {
    async function openapi(ctx: TestContext) {
      const response = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      return response.json();
    }

    it('describes the API in OpenAPI 3 with both security schemes', async () => {
      const ctx = await start();
      const doc = await openapi(ctx);
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info.title).toBe('Vigie');
      for (const path of ['/api/v1/auth/login', '/api/v1/api-keys', '/api/v1/settings']) expect(doc.paths, path).toHaveProperty([path]);
      expect(doc.components.securitySchemes).toEqual({
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      });
      // Open routes say so; the others inherit the document's requirement of a credential.
      expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
      expect(doc.paths['/api/v1/health'].get.security).toEqual([]);
      expect(doc.paths['/api/v1/settings'].get.security).toBeUndefined();
      expect(doc.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
      // Errors point at the one shared error schema.
      expect(doc.components.schemas.ErrorResponse.required).toEqual(['detail']);
      expect(doc.paths['/api/v1/users/{id}'].get.responses['404'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ErrorResponse',
      });
      // Webhook receivers find the body they will get documented, with its signature header.
      const webhookBody = doc.components.schemas.WebhookBody;
      expect(webhookBody.description).toContain('X-Vigie-Signature');
      expect(Object.keys(webhookBody.properties).sort()).toEqual(['items', 'kind', 'tenant', 'text', 'title', 'version']);
    });

    it('declares the statuses every route can answer, the Healthchecks bodies and the real content types', async () => {
      const ctx = await start();
      const doc = await openapi(ctx);
      const responses = (path: string, method: string) => doc.paths[path][method].responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
      const statuses = (path: string, method: string) => Object.keys(responses(path, method));
      const mediaTypes = (path: string, method: string, status: string) => Object.keys(responses(path, method)[status]!.content!);
      // The shared layers' statuses: credential (401, 503 as it reads the database), permission
      // (403), path id (404 from the route, 414), JSON body (400, 413, 415), validation (422).
      expect(statuses('/api/v1/channels/{id}', 'patch')).toEqual(['200', '400', '401', '403', '404', '409', '413', '414', '415', '422', '503']);
      expect(statuses('/api/v1/auth/me', 'get')).toEqual(['200', '401', '503']);
      expect(statuses('/api/v1/health', 'get')).toEqual(['200']);
      // Pings answer plain text, badges SVG or JSON, /metrics Prometheus' text format, exports their file's type.
      for (const status of ['200', '400', '404', '429']) expect(mediaTypes('/ping/{first}', 'post', status)).toEqual(['text/plain']);
      expect(mediaTypes('/b/{states}/{file}', 'get', '200')).toEqual(['image/svg+xml', 'application/json']);
      expect(mediaTypes('/b/{states}/{file}', 'get', '404')).toEqual(['text/plain']);
      expect(mediaTypes('/metrics', 'get', '200')).toEqual(['text/plain; version=0.0.4']);
      expect(mediaTypes('/api/v1/series/{id}/points', 'get', '200')).toEqual(['application/json', 'text/csv', 'application/x-ndjson']);
      expect(mediaTypes('/api/v3/checks/{uuid}/pings/{n}/body', 'get', '200')).toEqual(['text/plain']);
      // The Healthchecks API's answers have their bodies.
      const list = responses('/api/v3/checks/', 'get')['200']!.content!['application/json']!.schema as { properties: { checks: { items: { properties: object } } } };
      expect(Object.keys(list.properties.checks.items.properties)).toEqual(expect.arrayContaining(['name', 'slug', 'tags', 'status', 'last_ping', 'ping_url', 'unique_key']));
      expect(statuses('/api/v3/checks/', 'post')).toEqual(expect.arrayContaining(['200', '201']));
      expect(statuses('/api/v3/checks/{uuid}/flips/', 'get')).toContain('200');
    });

    it('lists every route of the app, with its method', async () => {
      const ctx = await start();
      const doc = await openapi(ctx);
      const described = ctx.app.routeCatalog.filter((route) => !isDocumentationRoute(route.url));
      expect(described.length).toBeGreaterThan(10);
      const missing = described.filter((route) => doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()] === undefined).map((route) => `${route.method} ${route.url}`);
      expect(missing).toEqual([]);
      // The documentation routes themselves are not described.
      expect(doc.paths).not.toHaveProperty(['/openapi.json']);
    });

    it('gives every route a response schema', async () => {
      const ctx = await start();
      const withoutSchema = ctx.app.routeCatalog.filter((route) => !isDocumentationRoute(route.url) && !route.hasResponseSchema).map((route) => `${route.method} ${route.url}`);
      expect(withoutSchema).toEqual([]);
    });

    it('serves Swagger UI under /docs without a credential', async () => {
      const ctx = await start();
      for (const url of ['/docs', '/docs/']) {
        const response = await ctx.app.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBe(200);
        expect(response.headers['content-type'], url).toMatch(/^text\/html/);
        expect(response.body, url).toContain('<title>Swagger UI</title>');
      }
    });
  });
});
