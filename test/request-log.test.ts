/**
 * What the app logs per request, read from a real pino logger given to the app: one line per
 * request (not Fastify's "incoming request" + "request completed" pair) with method, path,
 * status and time; pings, agent ingestion, health probes and scrapes at debug only; never a
 * query string, and never the secret in a ping or badge path.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { captureLogs, LEVEL, type LogCapture } from './helpers/log-capture.js';

describe('request log', () => {
  let ctx: TestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(): Promise<{ logs: LogCapture; apiKey: string }> {
    const logs = captureLogs('debug');
    ctx = await createTestApp('sqlite', { logger: logs.logger });
    const { apiKey } = await createTenantWithKey(ctx);
    return { logs, apiKey };
  }
  const requestLines = (logs: LogCapture) => logs.lines.filter((line) => 'status' in line || /request/.test(String(line.msg)));

  it('one info line per API request: method, path, status, time; no query string', async () => {
    const { logs, apiKey } = await start();
    const response = await ctx!.app.inject({ method: 'GET', url: '/api/v1/monitors?limit=5&token=s3cr3t-token', headers: { 'x-api-key': apiKey } });
    expect(response.statusCode).toBe(200);
    const lines = requestLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.info, msg: 'request', method: 'GET', url: '/api/v1/monitors', status: 200, reqId: response.headers['x-request-id'] });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(logs.raw.join('')).not.toContain('s3cr3t-token');
    expect(logs.raw.join('')).not.toContain(apiKey);

    // An error answer is one line too, with its status.
    await ctx!.app.inject({ method: 'GET', url: '/api/v1/nowhere?api_key=another-secret' });
    const after = requestLines(logs);
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ level: LEVEL.info, method: 'GET', url: '/api/v1/nowhere', status: 404 });
    expect(logs.raw.join('')).not.toContain('another-secret');
  });

  it('pings, ingestion and health probes log at debug only, pings without their UUID', async () => {
    const { logs, apiKey } = await start();
    const created = await ctx!.app.inject({ method: 'POST', url: '/api/v3/checks/', headers: { 'x-api-key': apiKey }, payload: { name: 'job' } });
    const uuid = created.json().uuid as string;
    logs.lines.length = 0;
    logs.raw.length = 0;

    expect((await ctx!.app.inject({ method: 'GET', url: `/ping/${uuid}?rid=${randomUUID()}` })).statusCode).toBe(200);
    expect((await ctx!.app.inject({ method: 'GET', url: `/ping/${uuid}/fail` })).statusCode).toBe(200);
    const ingest = await ctx!.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/metrics',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'x-ingest-id': randomUUID() },
      payload: JSON.stringify({ machine: { hostname: 'web-01', os: 'linux' }, metrics: [{ name: 'cpu', type: 'numeric', value: 1 }], sent_at: new Date().toISOString() }),
    });
    expect(ingest.statusCode, ingest.body).toBe(200);
    for (const url of ['/health', '/api/v1/health/readiness', '/api/monitoring/health']) expect((await ctx!.app.inject({ method: 'GET', url })).statusCode).toBe(200);

    const lines = requestLines(logs);
    expect(lines.map((line) => [line.level, line.method, line.url, line.status])).toEqual([
      [LEVEL.debug, 'GET', '/ping/:first', 200],
      [LEVEL.debug, 'GET', '/ping/:first/:second', 200],
      [LEVEL.debug, 'POST', '/api/v1/ingest/metrics', 200],
      [LEVEL.debug, 'GET', '/health', 200],
      [LEVEL.debug, 'GET', '/api/v1/health/readiness', 200],
      [LEVEL.debug, 'GET', '/api/monitoring/health', 200],
    ]);
    expect(logs.raw.join('')).not.toContain(uuid);
  });

  it('at the default info level, a ping logs nothing', async () => {
    const logs = captureLogs('info');
    ctx = await createTestApp('sqlite', { logger: logs.logger });
    const { apiKey } = await createTenantWithKey(ctx);
    const uuid = (await ctx.app.inject({ method: 'POST', url: '/api/v3/checks/', headers: { 'x-api-key': apiKey }, payload: { name: 'job' } })).json().uuid as string;
    logs.lines.length = 0;
    for (let i = 0; i < 5; i++) expect((await ctx.app.inject({ method: 'POST', url: `/ping/${uuid}` })).statusCode).toBe(200);
    expect(logs.lines).toEqual([]);
  });
});
