/**
 * One of each kind of resource in one tenant, made through the API as a user would, so that the
 * fuzzer's id routes reach real rows: an API key, a user, an HTTP target that is down (with its
 * incident and alert event), a channel, a silence, a maintenance window, a heartbeat check with
 * pings (one with a body) and a flip, a metric rule, a machine with a series, badges. And the
 * credentials to call with: a full key, a read-only key and a superuser's token.
 */
import { randomUUID } from 'node:crypto';
import { uniqueKey } from '../../../src/routes/healthchecks-v3.js';
import { SELF_SERVICES, SERVICE_ALIASES } from '../../../src/self-monitoring/self-services.js';
import { createTenantWithKey, createUser, login, type TestContext } from '../app.js';
import type { Credentials, KnownValues } from './requests.js';

export interface FuzzFixtures {
  credentials: Credentials;
  known: KnownValues;
}

export async function createFuzzFixtures(ctx: TestContext): Promise<FuzzFixtures> {
  const owner = await createTenantWithKey(ctx, 'full', 'Fuzzed tenant');
  const readOnly = await ctx.services.apiKeys.create(owner.tenantId, { name: 'fuzz read-only', scope: 'read-only' });
  const superuser = await createUser(ctx, owner.tenantId, { role: 'admin', isSuperuser: true });
  const credentials: Credentials = {
    full: { 'x-api-key': owner.apiKey },
    'read-only': { 'x-api-key': readOnly.secret },
    superuser: { authorization: `Bearer ${await login(ctx, superuser.email, superuser.password)}` },
    none: {},
  };

  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const response = await ctx.app.inject({ method: method as 'GET', url, headers: { ...credentials.full, ...headers }, ...(payload !== undefined && { payload: payload as string }) });
    if (response.statusCode >= 300) throw new Error(`fixture: ${method} ${url} answered ${response.statusCode}: ${response.body}`);
    return response.json() as Record<string, unknown> & { id: string };
  }
  const firstId = (page: unknown) => ((Array.isArray(page) ? page : (page as { items: unknown[] }).items) as { id: string }[])[0]!.id;

  const apiKey = await call('POST', '/api/v1/api-keys', { name: 'fuzz deploy key', scope: 'read-only' });
  const user = await call('POST', '/api/v1/users', { email: 'fuzz-member@example.com', password: 'correct horse battery', role: 'member' });
  // Nothing listens on port 9: the check fails at once and the target is down after one failure.
  const target = await call('POST', '/api/v1/http-targets', { name: 'fuzz site', url: 'http://127.0.0.1:9/fuzz', failure_threshold: 1, timeout_seconds: 2 });
  await call('POST', `/api/v1/http-targets/${target.id}/check`);
  const incidentId = firstId(await call('GET', `/api/v1/incidents?monitor=${target.id}`));
  const eventId = firstId(await call('GET', `/api/v1/alerts/events?monitor=${target.id}`));
  const channel = await call('POST', '/api/v1/channels', { name: 'fuzz hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook', secret: 'fuzz secret' } });
  const silence = await call('POST', '/api/v1/silences', { matchers: [{ field: 'tag', op: '=', value: 'db' }], ends_at: new Date(ctx.clock.now() + 3_600_000).toISOString(), comment: 'fuzz' });
  const maintenance = await call('POST', '/api/v1/maintenance', { name: 'fuzz patch night', cron: '0 2 * * 0', duration_seconds: 3600, tags: ['db'] });

  const check = await call('POST', '/api/v3/checks/', { name: 'fuzz job', slug: 'fuzz-job', tags: 'fuzz nightly' });
  const pingUuid = check.uuid as string;
  await ctx.app.inject({ method: 'POST', url: `/ping/${pingUuid}`, payload: 'job output', headers: { 'content-type': 'text/plain' } });
  await ctx.app.inject({ method: 'POST', url: `/ping/${pingUuid}/fail` });
  const watched = (await call('GET', '/api/monitoring/checks')).checks as { id: string; name: string }[];
  const heartbeatId = watched.find((c) => c.name === 'fuzz job')!.id;
  const pingKey = await ctx.services.heartbeats.pingKey(owner.tenantId);

  const rule = await call('POST', '/api/v1/metric-rules', { name: 'fuzz cpu', metric: 'cpu_percent', machine_tag: 'fuzz', warning_threshold: 70, critical_threshold: 90 });
  const ingest = { machine: { hostname: 'fuzz-web-1', os: 'linux', tags: ['fuzz'] }, metrics: [{ name: 'cpu_percent', type: 'numeric', value: 42.5 }] };
  const machineId = (await call('POST', '/api/v1/ingest/metrics', ingest, { 'x-ingest-id': randomUUID() })).machine_id as string;
  const seriesId = firstId(await call('GET', `/api/v1/series?machine=${machineId}`));

  // Badge URLs as the API gives them: /badge/{key}/{signature}[-2].{fmt}, /badge/{key}/{signature}[-2]/{tag}.{fmt}, /b/{2|3}/{key}.{fmt}.
  const badges = (await call('GET', '/api/v3/badges/')).badges as Record<string, Record<string, string>>;
  const badgePaths = Object.values(badges).flatMap((links) => Object.values(links).map((link) => new URL(link).pathname.split('/').slice(1)));
  const checkBadge = new URL(check.badge_url as string).pathname.split('/');
  const badgeKey = checkBadge[3]!.replace(/\.svg$/, '');
  const segments = (length: number, at: number) => [...new Set(badgePaths.filter((p) => p.length === length).map((p) => decodeURIComponent(p[at]!)))];

  const files = (name: string) => ['svg', 'json', 'shields'].map((format) => `${name}.${format}`);
  const byPrefix: Record<string, Record<string, readonly string[]>> = {
    '/api/v1/api-keys/': { id: [apiKey.id] },
    '/api/v1/users/': { id: [user.id] },
    '/api/v1/tenants/': { id: [owner.tenantId] },
    '/api/v1/monitors/': { id: [target.id, heartbeatId, rule.id, machineId] },
    '/api/v1/incidents/': { id: [incidentId] },
    '/api/v1/channels/': { id: [channel.id] },
    '/api/v1/silences/': { id: [silence.id] },
    '/api/v1/maintenance/': { id: [maintenance.id] },
    '/api/v1/alerts/events/': { id: [eventId] },
    '/api/monitoring/checks/': { id: [heartbeatId] },
    '/api/monitoring/check/': { service: [...SELF_SERVICES, ...Object.keys(SERVICE_ALIASES)] },
    '/api/v1/http-targets/': { id: [target.id] },
    '/api/v3/checks/': { uuid: [pingUuid, uniqueKey(pingUuid)], n: ['1', '2'] },
    '/api/v1/metric-rules/': { id: [rule.id] },
    '/api/v1/machines/': { id: [machineId] },
    '/api/v1/series/': { id: [seriesId] },
    '/badge/{key}/{file}': { key: segments(3, 1), file: segments(3, 2) },
    '/badge/{key}/{signature}/{file}': { key: segments(4, 1), signature: segments(4, 2), file: segments(4, 3) },
    '/b/': { states: ['2', '3'], file: files(badgeKey) },
    '/ping/': { first: [pingUuid, pingKey], second: ['start', 'fail', 'log', '0', '255', 'fuzz-job', 'new-job'], third: ['start', 'fail', 'log', '1'] },
  };
  const known: KnownValues = (path, parameter) => {
    const prefix = Object.keys(byPrefix)
      .filter((p) => path.startsWith(p.replace(/\{.*$/, '')) && (!p.includes('{') || p === path))
      .sort((a, b) => b.length - a.length)[0];
    return prefix ? (byPrefix[prefix]![parameter] ?? []).map(String) : [];
  };
  return { credentials, known };
}
