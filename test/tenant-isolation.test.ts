/**
 * The isolation walk: no credential of tenant B can read, change or delete anything of tenant A,
 * and B's lists never show A's rows. Every id-taking route is walked, and a completeness check
 * against `app.routeCatalog` makes a new route without an entry fail this file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestSha256 } from '../src/kinds/backup/status-report.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, createUser, login, type TestContext } from './helpers/app.js';
import { HEALTHCHECKS_MOUNTS } from '../src/routes/healthchecks-v3.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { insertMachine, insertSamples, insertSeries } from './helpers/metrics-fixtures.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** `METHOD /url/:param` exactly as in `app.routeCatalog`. */
type RoutePattern = `${Method} /${string}`;
const pattern = (route: string) => route as RoutePattern;

interface RouteCall {
  route: RoutePattern;
  /** A body that succeeds when the owner sends it (the test checks this), so a 404 to B is not a 422 in disguise. */
  body?: unknown;
  /** Headers the route needs besides the credential (the HTTP deposit's X-Content-SHA256). */
  headers?: Record<string, string>;
  /**
   * The owner's answer when the fixture cannot give the action something to act on (accepting a
   * size needs a SIZE_ANOMALY run): a refusal about the row itself, which B must not get either.
   */
  ownerStatus?: number;
}

/** The owning tenant, as the create functions see it. */
interface Owner {
  tenantId: string;
  headers: Record<string, string>;
}

/** Values of the `:params` of the routes; a plain string is the value of `:id`. */
type Params = string | Record<string, string>;

interface TenantResource {
  name: string;
  /** Every route that reaches this resource through its URL. GET routes also serve to prove it unchanged. */
  routes: RouteCall[];
  /** Creates one in the owner's tenant, through the API, and returns its id. */
  create(ctx: TestContext, owner: Owner): Promise<Params>;
}

/** One file deposited over HTTP by tenant A, and its manifest. */
const DEPOSITED = 'tenant-a dump';
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const DEPOSIT_MANIFEST = [{ path: '*', size: DEPOSITED.length, sha256: sha256Hex(DEPOSITED) }];
const DEPOSIT_TIMES = { started_at: '2026-12-05T02:00:00Z', finished_at: '2026-12-05T02:01:00Z' };
/**
 * LATER ISSUES: every route whose URL takes a `:param` and reads or changes one tenant's data
 * must be listed here, with a function that creates the resource in the owning tenant.
 * The completeness test below fails for any such route of `app.routeCatalog` missing from this
 * table (and for an entry that names a route which does not exist).
 */
const TENANT_RESOURCES: readonly TenantResource[] = [
  {
    name: 'API key',
    routes: [{ route: 'GET /api/v1/api-keys/:id' }, { route: 'DELETE /api/v1/api-keys/:id' }],
    create: async (ctx, owner) => created(ctx, owner, 'POST /api/v1/api-keys', { name: 'tenant-a deploy key', scope: 'read-only' }),
  },
  {
    name: 'user',
    routes: [
      { route: 'GET /api/v1/users/:id' },
      { route: 'PATCH /api/v1/users/:id', body: { role: 'viewer', is_active: false, password: 'another long password' } },
      { route: 'DELETE /api/v1/users/:id' },
    ],
    create: async (ctx, owner) => created(ctx, owner, 'POST /api/v1/users', { email: `member-${randomUUID()}@tenant-a.example`, password: 'correct horse battery', role: 'member' }),
  },
  {
    name: 'HTTP target (and its monitor)',
    routes: [
      { route: 'GET /api/v1/http-targets/:id' },
      { route: 'PATCH /api/v1/http-targets/:id', body: { name: 'renamed by its owner', check_interval_seconds: 120 } },
      { route: 'POST /api/v1/http-targets/:id/check' },
      { route: 'DELETE /api/v1/http-targets/:id' },
      { route: 'GET /api/v1/monitors/:id' },
      { route: 'GET /api/v1/monitors/:id/results' },
      { route: 'GET /api/v1/monitors/:id/uptime' },
      { route: 'POST /api/v1/monitors/:id/pause' },
      { route: 'POST /api/v1/monitors/:id/resume' },
      { route: 'PATCH /api/v1/monitors/:id', body: { repeat_interval_seconds: 600, channel_ids: [] } },
    ],
    create: (ctx, owner) => createRefusedTarget(ctx, owner),
  },
  {
    name: 'incident',
    routes: [{ route: 'GET /api/v1/incidents/:id' }, { route: 'POST /api/v1/incidents/:id/ack' }],
    create: async (ctx, owner) => {
      const targetId = await createRefusedTarget(ctx, owner);
      await ctx.app.inject({ method: 'POST', url: `/api/v1/http-targets/${targetId}/check`, headers: owner.headers });
      const incidents = await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents?monitor=${targetId}`, headers: owner.headers });
      const [incident] = incidents.json() as { id: string }[];
      if (!incident) throw new Error(`no incident opened: ${incidents.body}`);
      return incident.id;
    },
  },
  {
    name: 'channel',
    routes: [
      { route: 'GET /api/v1/channels/:id' },
      { route: 'PATCH /api/v1/channels/:id', body: { name: 'renamed by its owner', config: { url: 'http://127.0.0.1:9/renamed' } } },
      { route: 'POST /api/v1/channels/:id/test' },
      { route: 'DELETE /api/v1/channels/:id' },
    ],
    create: (ctx, owner) => created(ctx, owner, 'POST /api/v1/channels', { name: `hook ${randomUUID()}`, kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook', secret: 'tenant-a secret' } }),
  },
  {
    name: 'silence',
    routes: [
      { route: 'GET /api/v1/silences/:id' },
      { route: 'PATCH /api/v1/silences/:id', body: { comment: 'changed by its owner' } },
      { route: 'POST /api/v1/silences/:id/expire' },
      { route: 'DELETE /api/v1/silences/:id' },
    ],
    create: (ctx, owner) =>
      created(ctx, owner, 'POST /api/v1/silences', {
        matchers: [{ field: 'tag', op: '=', value: 'db' }],
        ends_at: new Date(ctx.clock.now() + 3_600_000).toISOString(),
        comment: 'tenant-a upgrade',
      }),
  },
  {
    name: 'maintenance window',
    routes: [{ route: 'GET /api/v1/maintenance/:id' }, { route: 'PATCH /api/v1/maintenance/:id', body: { name: 'renamed by its owner' } }, { route: 'DELETE /api/v1/maintenance/:id' }],
    create: (ctx, owner) => created(ctx, owner, 'POST /api/v1/maintenance', { name: 'tenant-a patch night', cron: '0 2 * * 0', duration_seconds: 3600, tags: ['db'] }),
  },
  {
    name: 'alert event',
    routes: [{ route: 'GET /api/v1/alerts/events/:id' }],
    create: async (ctx, owner) => {
      const targetId = await createRefusedTarget(ctx, owner);
      await ctx.app.inject({ method: 'POST', url: `/api/v1/http-targets/${targetId}/check`, headers: owner.headers });
      const events = await ctx.app.inject({ method: 'GET', url: `/api/v1/alerts/events?monitor=${targetId}`, headers: owner.headers });
      const [event] = (events.json() as { items: { id: string }[] }).items;
      if (!event) throw new Error(`no alert event: ${events.body}`);
      return event.id;
    },
  },
  // Healthchecks' API at each of its mount points (src/routes/healthchecks-v3.ts).
  ...HEALTHCHECKS_MOUNTS.map(({ prefix }): TenantResource => ({
    name: `heartbeat check (Healthchecks API ${prefix})`,
    routes: [
      { route: pattern(`GET ${prefix}/checks/:uuid`) },
      { route: pattern(`GET ${prefix}/checks/:uuid/pings/`) },
      { route: pattern(`GET ${prefix}/checks/:uuid/pings/:n/body`) },
      { route: pattern(`GET ${prefix}/checks/:uuid/flips/`) },
      { route: pattern(`POST ${prefix}/checks/:uuid`), body: { desc: 'changed by its owner', tags: 'tenant-a nightly' } },
      { route: pattern(`POST ${prefix}/checks/:uuid/pause`) },
      { route: pattern(`POST ${prefix}/checks/:uuid/resume`) },
      { route: pattern(`DELETE ${prefix}/checks/:uuid`) },
    ],
    create: async (ctx, owner) => {
      const response = await ctx.app.inject({ method: 'POST', url: `${prefix}/checks/`, headers: owner.headers, payload: { name: 'tenant-a backup', tags: 'tenant-a' } });
      if (response.statusCode !== 201) throw new Error(`POST ${prefix}/checks/ answered ${response.statusCode}: ${response.body}`);
      const uuid = response.json().uuid as string;
      const ping = await ctx.app.inject({ method: 'POST', url: `/ping/${uuid}`, payload: 'tenant-a backup output', headers: { 'content-type': 'text/plain' } });
      if (ping.statusCode !== 200) throw new Error(`ping answered ${ping.statusCode}: ${ping.body}`);
      return { uuid, n: '1' };
    },
  })),
  {
    name: 'watched check (seed 002 monitoring API)',
    routes: [{ route: 'GET /api/v1/monitors/:id' }, { route: 'POST /api/monitoring/checks/:id/pause' }, { route: 'POST /api/monitoring/checks/:id/resume' }],
    create: async (ctx, owner) => {
      // A heartbeat check that failed (down), found by name in the seed's list of checks.
      const name = `tenant-a watched job ${randomUUID()}`;
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v3/checks/', headers: owner.headers, payload: { name, tags: 'tenant-a' } });
      if (response.statusCode !== 201) throw new Error(`POST /api/v3/checks/ answered ${response.statusCode}: ${response.body}`);
      const ping = await ctx.app.inject({ method: 'POST', url: `${new URL(response.json().ping_url as string).pathname}/fail` });
      if (ping.statusCode !== 200) throw new Error(`ping answered ${ping.statusCode}: ${ping.body}`);
      const list = await ctx.app.inject({ method: 'GET', url: '/api/monitoring/checks', headers: owner.headers });
      const check = (list.json().checks as { id: string; name: string }[]).find((c) => c.name === name);
      if (!check) throw new Error(`the check is not in /api/monitoring/checks: ${list.body}`);
      return check.id;
    },
  },
  {
    name: 'metric series',
    routes: [{ route: 'GET /api/v1/series/:id' }, { route: 'GET /api/v1/series/:id/points' }],
    create: (ctx, owner) => createSeries(ctx, owner),
  },
  {
    name: 'metric rule (and its monitor)',
    routes: [
      { route: 'GET /api/v1/metric-rules/:id' },
      { route: 'PATCH /api/v1/metric-rules/:id', body: { critical_threshold: 95, name: 'tenant-a cpu, changed by its owner' } },
      { route: 'DELETE /api/v1/metric-rules/:id' },
      { route: 'GET /api/v1/monitors/:id' },
    ],
    create: (ctx, owner) => created(ctx, owner, 'POST /api/v1/metric-rules', { name: 'tenant-a cpu', metric: 'cpu_percent', machine_tag: 'tenant-a', warning_threshold: 70, critical_threshold: 90 }),
  },
  {
    name: 'machine (registered by an ingest, and its monitor)',
    // The generic delete last: the owner's own calls run in this order.
    routes: [{ route: 'GET /api/v1/machines/:id' }, { route: 'GET /api/v1/monitors/:id' }, { route: 'DELETE /api/v1/monitors/:id' }],
    create: async (ctx, owner) => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/metrics',
        headers: { ...owner.headers, 'x-ingest-id': randomUUID() },
        payload: { machine: { hostname: `tenant-a-web-${randomUUID()}`, os: 'linux' }, metrics: [{ name: 'cpu_load', type: 'numeric', value: 0.42 }] },
      });
      if (response.statusCode !== 200) throw new Error(`POST /api/v1/ingest/metrics answered ${response.statusCode}: ${response.body}`);
      return response.json().machine_id as string;
    },
  },
  {
    name: 'backup job (seed 001, and its monitor)',
    routes: [
      { route: 'GET /api/v1/backup-jobs/:id' },
      { route: 'PATCH /api/v1/backup-jobs/:id', body: { name: 'renamed by its owner', grace_seconds: 600 } },
      { route: 'POST /api/v1/backup-jobs/:id/pause' },
      { route: 'POST /api/v1/backup-jobs/:id/resume' },
      { route: 'GET /api/v1/backup-jobs/:id/runs' },
      { route: 'GET /api/jobs/:job_id/history' },
      // The HTTP deposit (issue 16): the file's path is the route's wildcard, here the name "*".
      { route: 'PUT /api/v1/backup-jobs/:id/runs/:run_id/files/*', body: DEPOSITED, headers: { 'x-content-sha256': sha256Hex(DEPOSITED) } },
      { route: 'POST /api/v1/backup-jobs/:id/runs/:run_id/report', body: { status: 'success', ...DEPOSIT_TIMES, files: DEPOSIT_MANIFEST, manifest_sha256: manifestSha256(DEPOSIT_MANIFEST) } },
      // The fixture's job has no run: its owner is told there is no size to accept, B that there is no job.
      { route: 'POST /api/v1/backup-jobs/:id/accept-size', ownerStatus: 409 },
      { route: 'DELETE /api/v1/backup-jobs/:id' },
    ],
    create: async (ctx, owner) => {
      const id = await created(ctx, owner, 'POST /api/v1/backup-jobs', { name: 'tenant-a nightly dump', agent: 'tenant-a-db', database: 'shop' });
      return { id, job_id: id, run_id: 'r1' };
    },
  },
];

/**
 * A machine with a numeric series and a sample a minute old, written straight into the tables as
 * ingestion would leave them (the series routes only read). Returns the series id.
 */
async function createSeries(ctx: TestContext, owner: Owner): Promise<string> {
  const now = ctx.clock.now();
  const machineId = await insertMachine(ctx.database.db, { tenantId: owner.tenantId, hostname: `tenant-a-web-${randomUUID()}`, now });
  const series = await insertSeries(ctx.database.db, { tenantId: owner.tenantId, machineId, name: 'tenant-a cpu', now });
  await insertSamples(ctx.database.db, series, [{ at: now - 60_000, value: 0.5 }]);
  return String(series.id);
}

/** An HTTP target whose check fails at once (nothing listens on port 9), down after one failure. */
function createRefusedTarget(ctx: TestContext, owner: Owner): Promise<string> {
  return created(ctx, owner, 'POST /api/v1/http-targets', { name: 'tenant-a site', url: `http://127.0.0.1:9/${randomUUID()}`, failure_threshold: 1, timeout_seconds: 2 });
}

/**
 * LATER ISSUES: every GET route without a `:param` that returns one tenant's data (lists,
 * settings, summaries) belongs here; B's answer must not contain anything of A's.
 */
const TENANT_LISTS: readonly RoutePattern[] = [
  'GET /api/v1/api-keys',
  'GET /api/v1/users',
  'GET /api/v1/settings',
  'GET /api/v1/auth/me',
  'GET /api/v1/monitors',
  'GET /api/v1/http-targets',
  'GET /api/v1/incidents',
  'GET /api/v1/channels',
  'GET /api/v1/silences',
  'GET /api/v1/maintenance',
  'GET /api/v1/alerts/events',
  'GET /api/v1/alerts/notifications',
  ...HEALTHCHECKS_MOUNTS.flatMap(({ prefix, withoutChannels }): RoutePattern[] => [
    pattern(`GET ${prefix}/checks/`),
    pattern(`GET ${prefix}/badges/`),
    ...(withoutChannels ? [] : [pattern(`GET ${prefix}/channels/`)]),
  ]),
  'GET /api/v1/settings/ping-key',
  'GET /api/monitoring/checks',
  'GET /api/monitoring/dashboard',
  'GET /api/v1/series',
  'GET /api/v1/series/export',
  'GET /api/v1/metric-rules',
  'GET /api/v1/machines',
  'GET /api/v1/backup-jobs',
  'GET /api/jobs',
];

/**
 * GET routes without a `:param` that answer with one tenant's figures (counts), which hold no id
 * to look for: B's answer must not move when A's resources are created, and A's must differ.
 */
const TENANT_SUMMARIES: readonly RoutePattern[] = ['GET /api/monitoring/status'];

/**
 * Routes, with their params, that read no tenant's rows: they check Vigie's own parts
 * (self-monitoring) and answer every tenant alike. B's answers hold nothing of A's.
 */
const NOT_TENANT_DATA: readonly { route: RoutePattern; params?: Record<string, string> }[] = [
  { route: 'GET /api/monitoring/check/all' },
  { route: 'GET /api/monitoring/check/:service', params: { service: 'database' } },
];

/** Routes that reach across tenants; a tenant's full credential gets 403 from each. */
const SUPERUSER_ROUTES: readonly RouteCall[] = [
  { route: 'GET /api/v1/tenants' },
  { route: 'POST /api/v1/tenants', body: { name: 'made by tenant-b' } },
  { route: 'GET /api/v1/tenants/:id' },
  { route: 'GET /api/v1/tenants/:id/users' },
  { route: 'POST /api/v1/tenants/:id/users', body: { email: 'intruder@tenant-b.example', password: 'correct horse battery', role: 'admin' } },
];

/** Creates through the API and returns the new row's id. */
async function created(ctx: TestContext, owner: Owner, route: RoutePattern, body: unknown): Promise<string> {
  const [method, url] = splitRoute(route);
  const response = await ctx.app.inject({ method, url, headers: owner.headers, payload: body as object });
  if (response.statusCode !== 201) throw new Error(`${route} answered ${response.statusCode}: ${response.body}`);
  return response.json().id as string;
}

function splitRoute(route: RoutePattern): [Method, string] {
  const space = route.indexOf(' ');
  return [route.slice(0, space) as Method, route.slice(space + 1)];
}

function paramNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

function fillUrl(url: string, params: Params): string {
  const values = typeof params === 'string' ? { id: params } : params;
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${url}`);
    return encodeURIComponent(value);
  });
}

/** The same params with every value replaced by an id that exists nowhere. */
/** Other ids of the same shape: UUIDs replaced by new ones, other values (e.g. a ping number) kept. */
function unknownParams(params: Params): Params {
  if (typeof params === 'string') return randomUUID();
  return Object.fromEntries(Object.entries(params).map(([name, value]) => [name, value.length >= 16 ? randomUUID() : value]));
}

async function call(ctx: TestContext, { route, body, headers: own }: RouteCall, params: Params, headers: Record<string, string>) {
  const [method, url] = splitRoute(route);
  return ctx.app.inject({ method, url: fillUrl(url, params), headers: { ...headers, ...own }, ...(body === undefined ? {} : { payload: body as object }) });
}

/** What the owner sees through the resource's GET routes: every status and body. */
async function snapshot(ctx: TestContext, resource: TenantResource, params: Params, owner: Owner) {
  const reads = resource.routes.filter((r) => r.route.startsWith('GET '));
  return Promise.all(
    reads.map(async (read) => {
      const response = await call(ctx, read, params, owner.headers);
      const isJson = String(response.headers['content-type'] ?? '').startsWith('application/json');
      return { route: read.route, status: response.statusCode, body: isJson ? (response.json() as unknown) : response.body };
    }),
  );
}

/** Walking every resource at each of the Healthchecks API's six mount points takes longer than one test's default. */
const WALK_TIMEOUT_MS = 180_000;

const catalogRoute = (entry: { method: string; url: string }) => `${entry.method} ${entry.url}` as RoutePattern;

/** Tenant B's credential, of each kind a caller can hold. */
const B_CREDENTIALS = ['full API key', 'admin user token'] as const;

describe.each(TEST_DIALECTS)('tenant isolation on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function setUp() {
    ctx = await createTestApp(dialect, { env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'vigie-isolation-')) } }); // the HTTP deposit writes files
    const a = await createTenantWithKey(ctx, 'full', 'tenant-a');
    const b = await createTenantWithKey(ctx, 'full', 'tenant-b');
    const bAdmin = await createUser(ctx, b.tenantId, { email: 'admin@tenant-b.example', role: 'admin' });
    const owner: Owner = { tenantId: a.tenantId, headers: { 'x-api-key': a.apiKey } };
    const bToken = await login(ctx, bAdmin.email, bAdmin.password);
    const bHeaders = {
      'full API key': { 'x-api-key': b.apiKey },
      'admin user token': { authorization: `Bearer ${bToken}` },
    } as const;
    return { ctx, a, b, bAdmin, owner, bHeaders };
  }

  it('the tables cover every id-taking tenant route, every tenant list and every superuser route', async () => {
    ctx = await createTestApp(dialect, { env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'vigie-isolation-')) } }); // the HTTP deposit writes files
    const catalog = ctx.app.routeCatalog;
    const covered = new Set(TENANT_RESOURCES.flatMap((r) => r.routes.map((c) => c.route)));
    const superuser = new Set(SUPERUSER_ROUTES.map((c) => c.route));
    const lists = new Set(TENANT_LISTS);
    const summaries = new Set(TENANT_SUMMARIES);
    const notTenantData = new Set(NOT_TENANT_DATA.map((c) => c.route));

    const idRoutes = catalog
      .filter((e) => paramNames(e.url).length > 0 && e.access !== 'superuser' && e.access !== 'public')
      .map(catalogRoute)
      .filter((route) => !notTenantData.has(route));
    expect(idRoutes.length).toBeGreaterThan(0);
    expect(
      idRoutes.filter((route) => !covered.has(route)),
      'id-taking routes missing from TENANT_RESOURCES',
    ).toEqual([]);

    const listRoutes = catalog.filter((e) => e.method === 'GET' && paramNames(e.url).length === 0 && e.access !== 'superuser' && e.access !== 'public').map(catalogRoute);
    expect(
      listRoutes.filter((route) => !lists.has(route) && !summaries.has(route) && !notTenantData.has(route)),
      'tenant GET routes missing from TENANT_LISTS',
    ).toEqual([]);

    const superuserRoutes = catalog.filter((e) => e.access === 'superuser').map(catalogRoute);
    expect(
      superuserRoutes.filter((route) => !superuser.has(route)),
      'superuser routes missing from SUPERUSER_ROUTES',
    ).toEqual([]);

    // No stale entries: every route the tables name exists, with the access the table assumes.
    const byRoute = new Map(catalog.map((e) => [catalogRoute(e), e.access]));
    for (const route of covered) expect(byRoute.get(route), route).toBeDefined();
    for (const route of covered) expect(['public', 'superuser'], route).not.toContain(byRoute.get(route));
    for (const route of lists) expect(byRoute.get(route), route).toBeDefined();
    for (const route of [...summaries, ...notTenantData]) expect(['public', 'superuser'], route).not.toContain(byRoute.get(route) ?? 'public');
    for (const route of superuser) expect(byRoute.get(route), route).toBe('superuser');
  });

  it.each(B_CREDENTIALS)(
    "B's %s gets 404 on every route of A's resources, which stay unchanged",
    async (credential) => {
      const { ctx, owner, bHeaders } = await setUp();
      const intruder = bHeaders[credential];

      for (const resource of TENANT_RESOURCES) {
        const params = await resource.create(ctx, owner);
        const before = await snapshot(ctx, resource, params, owner);
        expect(before.length, `${resource.name} needs a GET route to check it`).toBeGreaterThan(0);
        for (const read of before) expect(read.status, `${read.route} by its owner`).toBe(200);

        for (const routeCall of resource.routes) {
          const response = await call(ctx, routeCall, params, intruder);
          expect(response.statusCode, `${routeCall.route} by B`).toBe(404);
          // Indistinguishable from an id that does not exist: the answer leaks nothing of A's row.
          const missing = await call(ctx, routeCall, unknownParams(params), intruder);
          expect(missing.statusCode, `${routeCall.route} on an unknown id`).toBe(404);
          expect(response.json(), `${routeCall.route} by B`).toEqual(missing.json());
          expect(response.json().detail, `${routeCall.route} by B`).toMatch(/^[A-Z][A-Za-z ]* not found$/);
        }

        expect(await snapshot(ctx, resource, params, owner), `${resource.name} after B's calls`).toEqual(before);

        // The same calls succeed for the owner: the bodies are valid and the routes really act.
        const writes = resource.routes.filter((r) => !r.route.startsWith('GET ')).sort((x, y) => Number(x.route.startsWith('DELETE ')) - Number(y.route.startsWith('DELETE ')));
        for (const routeCall of writes) {
          const response = await call(ctx, routeCall, params, owner.headers);
          if (routeCall.ownerStatus !== undefined) {
            expect(response.statusCode, `${routeCall.route} by its owner: ${response.body}`).toBe(routeCall.ownerStatus);
            continue;
          }
          expect(response.statusCode, `${routeCall.route} by its owner: ${response.body}`).toBeGreaterThanOrEqual(200);
          expect(response.statusCode, `${routeCall.route} by its owner: ${response.body}`).toBeLessThan(300);
        }
        if (writes.length > 0) expect(await snapshot(ctx, resource, params, owner)).not.toEqual(before);
      }
    },
    WALK_TIMEOUT_MS,
  );

  it.each(B_CREDENTIALS)(
    "B's %s never sees A's rows or values in its lists",
    async (credential) => {
      const { ctx, a, owner, bHeaders } = await setUp();
      // A's ping key is a secret of A's too (the slug ping URLs).
      const aIds = [a.tenantId, a.apiKeyId, await ctx.services.heartbeats.pingKey(a.tenantId)];
      for (const resource of TENANT_RESOURCES) {
        const params = await resource.create(ctx, owner);
        // Ids, not small values such as a ping number, which any list may hold by chance.
        aIds.push(...(typeof params === 'string' ? [params] : Object.values(params)).filter((value) => value.length >= 16));
      }
      await ctx.services.alertRouter.routeBatch(); // A's alert event becomes notifications in A's outbox
      const aSettings = { notification_email: 'alerts@tenant-a.example', timezone: 'Pacific/Chatham', heartbeat_threshold_minutes: 77, consecutive_failures_threshold: 9 };
      const patched = await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: owner.headers, payload: aSettings });
      expect(patched.statusCode).toBe(200);

      for (const route of TENANT_LISTS) {
        const [method, url] = splitRoute(route);
        const response = await ctx.app.inject({ method, url, headers: bHeaders[credential] });
        expect(response.statusCode, route).toBe(200);
        for (const id of aIds) expect(response.body, `${route} shows an id of A`).not.toContain(id);
        expect(response.body, `${route} shows a value of A`).not.toContain('tenant-a');
        expect(response.body, `${route} shows A's time zone`).not.toContain('Pacific/Chatham');
        // The same list read by A does show A's data, so the absence above means something.
        const own = await ctx.app.inject({ method, url, headers: owner.headers });
        expect(own.statusCode, route).toBe(200);
        expect(aIds.some((id) => own.body.includes(id)) || own.body.includes('tenant-a'), `${route} read by A`).toBe(true);
      }
    },
    WALK_TIMEOUT_MS,
  );

  it.each(B_CREDENTIALS)("B's %s gets summaries of B's data only, and nothing of A's from the routes about Vigie itself", async (credential) => {
    const { ctx, a, owner, bHeaders } = await setUp();
    const read = async (route: RoutePattern, headers: Record<string, string>, params: Record<string, string> = {}) => {
      const [method, url] = splitRoute(route);
      const response = await ctx.app.inject({ method, url: fillUrl(url, params), headers });
      expect(response.statusCode, `${route}: ${response.body}`).toBe(200);
      return response.body;
    };
    const before = await Promise.all(TENANT_SUMMARIES.map((route) => read(route, bHeaders[credential])));
    const aIds = [a.tenantId, a.apiKeyId];
    for (const resource of TENANT_RESOURCES) {
      const params = await resource.create(ctx, owner);
      aIds.push(...(typeof params === 'string' ? [params] : Object.values(params)).filter((value) => value.length >= 16));
    }
    for (const [i, route] of TENANT_SUMMARIES.entries()) {
      expect(await read(route, bHeaders[credential]), `${route} read by B after A's resources were made`).toBe(before[i]);
      expect(await read(route, owner.headers), `${route} read by A`).not.toBe(before[i]);
    }
    for (const { route, params } of NOT_TENANT_DATA) {
      const body = await read(route, bHeaders[credential], params);
      for (const id of aIds) expect(body, `${route} shows an id of A`).not.toContain(id);
      expect(body, `${route} shows a value of A`).not.toContain('tenant-a');
    }
  });

  it("B's lists hold exactly B's rows, and B's settings are its own", async () => {
    const { ctx, a, b, bAdmin, owner, bHeaders } = await setUp();
    for (const resource of TENANT_RESOURCES) await resource.create(ctx, owner);
    await createUser(ctx, a.tenantId, { email: 'second@tenant-a.example' });
    const headers = bHeaders['full API key'];

    const keys = await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers });
    expect(keys.statusCode).toBe(200);
    expect(keys.json().map((k: { id: string }) => k.id)).toEqual([b.apiKeyId]);

    const users = await ctx.app.inject({ method: 'GET', url: '/api/v1/users', headers });
    expect(users.statusCode).toBe(200);
    expect(users.json().map((u: { id: string; tenant_id: string }) => [u.id, u.tenant_id])).toEqual([[bAdmin.user.id, b.tenantId]]);

    const defaults = (await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers })).json();
    const aPatch = { notification_email: 'alerts@tenant-a.example', timezone: 'Pacific/Chatham', alert_grouping_enabled: !defaults.alert_grouping_enabled };
    expect((await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: owner.headers, payload: aPatch })).statusCode).toBe(200);
    const aSettings = (await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: owner.headers })).json();
    expect(aSettings).toMatchObject(aPatch);
    expect(await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers }).then((r) => r.json())).toEqual(defaults);

    // B changing its settings leaves A's alone.
    const bPatch = { notification_email: 'ops@tenant-b.example', timezone: 'Asia/Tokyo', consecutive_failures_threshold: 42 };
    const bPatched = await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: bPatch });
    expect(bPatched.statusCode).toBe(200);
    expect(bPatched.json()).toMatchObject(bPatch);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: owner.headers })).json()).toEqual(aSettings);
  });

  it.each(B_CREDENTIALS)("B's %s gets 403 from every superuser route, which changes nothing", async (credential) => {
    const { ctx, a, owner, bHeaders } = await setUp();
    const tenantsBefore = await ctx.services.tenants.list();
    const aUsersBefore = await ctx.app.inject({ method: 'GET', url: '/api/v1/users', headers: owner.headers });
    const needs = credential === 'full API key' ? "This API key's scope does not allow" : 'Your role does not allow';

    for (const routeCall of SUPERUSER_ROUTES) {
      const response = await call(ctx, routeCall, a.tenantId, bHeaders[credential]);
      expect(response.statusCode, routeCall.route).toBe(403);
      expect(response.json(), routeCall.route).toEqual({ detail: `${needs} this operation (needs "superuser")` });
    }

    expect(await ctx.services.tenants.list()).toEqual(tenantsBefore);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/users', headers: owner.headers })).json()).toEqual(aUsersBefore.json());
  });
});
