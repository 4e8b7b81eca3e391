/**
 * Public status badges over HTTP (issue 5), on every dialect: `GET /api/v3/badges/` lists each
 * tag and `*` with Healthchecks' six URLs; those URLs, and each check's `badge_url`, answer SVG,
 * JSON and shields.io documents whose status follows the checks (new → up, grace → late only in
 * three-state badges, down), with no key, never cached; a wrong key, signature, format or a
 * signature borrowed from another tenant is a 404; a tag with characters that need escaping
 * works in the URL and in the SVG.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HeartbeatInput } from '../src/heartbeats/heartbeats.service.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const HOST = 'status.vigie.test';
const BASE = `http://${HOST}`;
type Json = Record<string, any>;

describe.each(TEST_DIALECTS)('status badges on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;

  beforeEach(async () => {
    ctx = await createTestApp(dialect, { env: { PUBLIC_URL: BASE } });
    tenant = await createTenantWithKey(ctx, 'full', 'Acme Ops');
  });
  afterEach(async () => {
    await ctx?.close();
  });

  const createCheck = (input: Partial<HeartbeatInput>, tenantId = tenant.tenantId) =>
    ctx.services.heartbeats.create(tenantId, {
      name: 'job',
      slug: null,
      tags: [],
      description: '',
      timeoutSeconds: 60,
      graceSeconds: 60,
      schedule: null,
      tz: 'UTC',
      manualResume: false,
      methods: '',
      ...input,
    });
  const badgeList = async (apiKey = tenant.apiKey): Promise<Record<string, Record<string, string>>> => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/v3/badges/', headers: { host: HOST, 'x-api-key': apiKey } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().badges;
  };
  /** Fetches a badge URL as a stranger would: no key, no cookie. */
  const fetchBadge = (url: string) => ctx.app.inject({ method: 'GET', url: url.replace(BASE, ''), headers: { host: HOST } });
  const badgeJson = async (url: string): Promise<Json> => {
    const response = await fetchBadge(url);
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    return response.json();
  };
  const ping = async (pingUuid: string) => expect((await ctx.app.inject({ method: 'GET', url: `/ping/${pingUuid}` })).body).toBe('OK');

  it('lists every tag and * with the six Healthchecks URLs; a read-only key may list them too', async () => {
    await createCheck({ name: 'backup a', tags: ['backup', 'prod'] });
    await createCheck({ name: 'backup b', tags: ['backup'] });
    await createCheck({ name: 'db dump', tags: ['db'] });
    const badges = await badgeList();
    expect(Object.keys(badges)).toEqual(['backup', 'db', 'prod', '*']);
    const backup = badges.backup!;
    expect(Object.keys(backup).sort()).toEqual(['json', 'json3', 'shields', 'shields3', 'svg', 'svg3']);
    const [, key, signature] = backup.svg3!.match(new RegExp(`^${BASE}/badge/([A-Za-z0-9_-]{22})/([A-Za-z0-9_-]{8})/backup\\.svg$`))!;
    expect(backup).toEqual({
      svg: `${BASE}/badge/${key}/${signature}-2/backup.svg`,
      svg3: `${BASE}/badge/${key}/${signature}/backup.svg`,
      json: `${BASE}/badge/${key}/${signature}-2/backup.json`,
      json3: `${BASE}/badge/${key}/${signature}/backup.json`,
      shields: `${BASE}/badge/${key}/${signature}-2/backup.shields`,
      shields3: `${BASE}/badge/${key}/${signature}/backup.shields`,
    });
    expect(badges.db!.svg3).not.toContain(`/${signature}/`); // one signature per tag
    expect(badges['*']!.svg).toMatch(new RegExp(`^${BASE}/badge/${key}/[A-Za-z0-9_-]{8}-2\\.svg$`));

    const { secret: readOnly } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'status page', scope: 'read-only' });
    expect(await badgeList(readOnly)).toEqual(badges); // same key: made once, then kept
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v3/badges/', headers: { host: HOST } })).statusCode).toBe(401);
  });

  it('follows the checks: up, late only on three-state badges, down; counts in JSON; shields colours', async () => {
    const first = await createCheck({ name: 'backup a', tags: ['backup'] });
    const second = await createCheck({ name: 'backup b', tags: ['backup'] });
    await createCheck({ name: 'unrelated', tags: ['other'] });
    const links = (await badgeList()).backup!;

    // New checks have missed nothing: up.
    expect(await badgeJson(links.json!)).toEqual({ status: 'up', total: 2, grace: 0, down: 0 });
    expect(await badgeJson(links.shields3!)).toEqual({ schemaVersion: 1, label: 'backup', message: 'up', color: 'success' });

    await ping(first.pingUuid);
    await ping(second.pingUuid);
    ctx.clock.advance(61_000); // past the timeout: late, within the grace
    await ping(second.pingUuid);
    await ctx.services.heartbeatSweep.run();
    expect(await badgeJson(links.json!)).toEqual({ status: 'up', total: 2, grace: 1, down: 0 });
    expect(await badgeJson(links.json3!)).toEqual({ status: 'late', total: 2, grace: 1, down: 0 });
    expect(await badgeJson(links.shields3!)).toMatchObject({ message: 'late', color: 'important' });
    expect(await badgeJson(links.shields!)).toMatchObject({ message: 'up', color: 'success' });

    ctx.clock.advance(60_000); // grace over for the first check; the second keeps pinging
    await ping(second.pingUuid);
    await ctx.services.heartbeatSweep.run();
    expect(await badgeJson(links.json!)).toEqual({ status: 'down', total: 2, grace: 0, down: 1 });
    expect(await badgeJson(links.json3!)).toEqual({ status: 'down', total: 2, grace: 0, down: 1 });

    const svg = await fetchBadge(links.svg!);
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    expect(svg.body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.body).toContain('aria-label="backup: down"');
    expect(svg.body).toContain('fill="#e05d44"');

    // `*` covers every check, labelled with the tenant's name.
    const all = (await badgeList())['*']!;
    expect(await badgeJson(all.json!)).toEqual({ status: 'down', total: 3, grace: 0, down: 1 });
    expect(await badgeJson(all.shields!)).toMatchObject({ label: 'Acme Ops', message: 'down' });

    // Per-check badges, from the v3 API's badge_url.
    const v3 = async (pingUuid: string) => (await ctx.app.inject({ method: 'GET', url: `/api/v3/checks/${pingUuid}`, headers: { host: HOST, 'x-api-key': tenant.apiKey } })).json() as Json;
    const firstBadge = (await v3(first.pingUuid)).badge_url as string;
    expect(firstBadge).toBe(`${BASE}/b/2/${first.badgeKey}.svg`);
    expect((await fetchBadge(firstBadge)).body).toContain('aria-label="backup a: down"');
    expect(await badgeJson(firstBadge.replace('.svg', '.json'))).toEqual({ status: 'down', total: 1, grace: 0, down: 1 });
    const secondBadge = (await v3(second.pingUuid)).badge_url as string;
    expect(await badgeJson(secondBadge.replace('.svg', '.shields'))).toEqual({ schemaVersion: 1, label: 'backup b', message: 'up', color: 'success' });

    // The first check recovers: the tag is up again.
    await ping(first.pingUuid);
    expect(await badgeJson(links.json3!)).toEqual({ status: 'up', total: 2, grace: 0, down: 0 });
  });

  it('answers 404 to a wrong key, signature or format, and to a signature from another tenant', async () => {
    const check = await createCheck({ name: 'backup a', tags: ['backup'] });
    const links = (await badgeList()).backup!;
    const other = await createTenantWithKey(ctx, 'full', 'Other');
    await createCheck({ name: 'theirs', tags: ['backup'] }, other.tenantId);
    const theirs = (await badgeList(other.apiKey)).backup!;
    expect(theirs.svg).not.toBe(links.svg);

    const [, key, signature] = links.svg3!.match(/\/badge\/([^/]+)\/([^/]+)\/backup\.svg$/)!;
    const [, theirKey, theirSignature] = theirs.svg3!.match(/\/badge\/([^/]+)\/([^/]+)\/backup\.svg$/)!;
    const wrong = [
      `/badge/${key}/${theirSignature}/backup.svg`, // their signature on our key
      `/badge/${theirKey}/${signature}/backup.json`, // ours on theirs
      `/badge/${key}/${signature}/prod.svg`, // a signature is for one tag
      `/badge/${key}/AAAAAAAA/backup.svg`,
      `/badge/${key}/${signature}-3/backup.svg`,
      `/badge/${key}/${signature}/backup.png`,
      `/badge/${key}/${signature}/backup`,
      `/badge/nokey/${signature}/backup.svg`,
      `/b/2/${check.pingUuid}.svg`, // the ping UUID is not a badge key
      `/b/4/${check.badgeKey}.svg`,
      `/b/2/${check.badgeKey}.gif`,
      `/b/2/not-a-key.svg`,
    ];
    for (const url of wrong) {
      const response = await fetchBadge(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.body).toBe('not found');
    }
    expect((await fetchBadge(theirs.json!)).json()).toEqual({ status: 'up', total: 1, grace: 0, down: 0 });
  });

  it('a tag with characters that need escaping works in the URL and in the SVG', async () => {
    await createCheck({ name: 'r&d <nightly>', tags: ['r&d<x>', 'db.eu'] });
    const badges = await badgeList();
    const odd = badges['r&d<x>']!;
    expect(odd.svg).toContain('/r%26d%3Cx%3E.svg');
    const svg = await fetchBadge(odd.svg!);
    expect(svg.statusCode).toBe(200);
    expect(svg.body).toContain('aria-label="r&amp;d&lt;x&gt;: up"');
    expect(svg.body).not.toContain('r&d<x>');
    // A dot in the tag: only the last one starts the format.
    expect(await badgeJson(badges['db.eu']!.json!)).toEqual({ status: 'up', total: 1, grace: 0, down: 0 });
  });
});
