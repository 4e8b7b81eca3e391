/**
 * `limit` and `offset` are bounded on every list route (one shared schema, http/schemas.ts):
 * values the database cannot hold (2^63, 1e30) used to reach it and come back as 500s; now
 * anything out of range or not a number is a 422 naming the parameter. The list of routes is
 * checked against the OpenAPI document, so a new list route joins this table or fails it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OFFSET } from '../src/http/schemas.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const LIST_ROUTES = [
  '/api/v1/monitors',
  '/api/v1/incidents',
  '/api/v1/alerts/events',
  '/api/v1/alerts/notifications',
  '/api/v1/machines',
  '/api/v1/series',
  '/api/v1/metric-rules',
  '/api/v1/backup-jobs/{id}/runs',
  '/api/jobs/{job_id}/history',
];

const BAD_VALUES: [string, string][] = [
  ['offset', '9223372036854775808'],
  ['offset', '1e30'],
  ['offset', '-1'],
  ['offset', 'abc'],
  ['offset', String(MAX_OFFSET + 1)],
  ['limit', '9223372036854775808'],
  ['limit', '1e30'],
  ['limit', '0'],
  ['limit', 'abc'],
  ['limit', '501'],
];

describe.each(TEST_DIALECTS)('limit and offset of list routes on %s', (dialect) => {
  let ctx: TestContext;
  let headers: Record<string, string>;
  let jobId: string;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    headers = { 'x-api-key': (await createTenantWithKey(ctx)).apiKey };
    // The per-job lists need a job of the tenant's.
    const job = await ctx.app.inject({ method: 'POST', url: '/api/v1/backup-jobs', headers, payload: { name: 'nightly dump', agent: 'db-1', database: 'app' } });
    expect(job.statusCode, job.body).toBe(201);
    jobId = job.json().id;
  });
  /** A list route's URL with its path parameters filled in. */
  const urlOf = (route: string) => route.replace('{id}', jobId).replace('{job_id}', jobId);
  afterAll(() => ctx.close());

  it('the table names every route that takes an offset', async () => {
    const document = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const paged = Object.entries(document.paths as Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>)
      .filter(([, operations]) => Object.values(operations).some((op) => op.parameters?.some((p) => p.in === 'query' && p.name === 'offset')))
      .map(([path]) => path);
    expect(paged.sort()).toEqual([...LIST_ROUTES].sort());
  });

  it.each(LIST_ROUTES)('%s answers 422 naming the parameter for values out of range, 200 at the bounds', async (route) => {
    for (const [name, value] of BAD_VALUES) {
      const response = await ctx.app.inject({ method: 'GET', url: `${urlOf(route)}?${name}=${encodeURIComponent(value)}`, headers });
      expect(response.statusCode, `${name}=${value}: ${response.body}`).toBe(422);
      expect(response.json().detail).toEqual([expect.objectContaining({ loc: ['query', name] })]);
    }
    const edge = await ctx.app.inject({ method: 'GET', url: `${urlOf(route)}?limit=500&offset=${MAX_OFFSET}`, headers });
    expect(edge.statusCode, edge.body).toBe(200);
  });
});
