/**
 * Agent ingestion (issue 6, seed 000) on every dialect, through the real route: the seed's
 * example request byte for byte, idempotency (the same X-Ingest-Id sequentially and ten copies at
 * once), every validation error with its `loc`, the 413, keys and scopes, `ts` handling, label
 * canonicalisation, the change history of bool and string series, machine registration and
 * update, the machines API, and what ingestion tells the sample listeners.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredSamples } from '../src/metrics/sample-events.js';
import { createTenantWithKey, createTestApp, type TestAppOptions, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { storedSamples } from './helpers/metrics-fixtures.js';

type Json = any;

/** The body of seed 000's `curl … -d '…'`, byte for byte (its indentation included). */
const SEED_BODY = `{
    "machine": {"hostname":"web-01", "os":"linux"},
    "metrics": [
      {"name":"cpu_load","type":"numeric","value":0.42,"unit":"ratio"},
      {"name":"service_nginx_ok","type":"bool","value":true},
      {"name":"version","type":"string","value":"1.0.0"}
    ],
    "sent_at": null
  }`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEED_INGEST_ID = '11111111-1111-1111-1111-111111111111';
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(TEST_DIALECTS)('ingestion on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(options: TestAppOptions = {}) {
    return session((ctx = await createTestApp(dialect, options)));
  }

  /** A new tenant with a full key on an app, and helpers that act as it. */
  async function session(c: TestContext) {
    const tenant = await createTenantWithKey(c, 'full', 'Acme');
    const key = tenant.apiKey;
    const db = c.database.db;
    /** Posts a batch: an object is sent as JSON, a string as it is. */
    const post = (body: object | string, ingestId: string | null = randomUUID(), headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/metrics',
        headers: { 'x-api-key': key, 'content-type': 'application/json', ...(ingestId === null ? {} : { 'x-ingest-id': ingestId }), ...headers },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const ingest = async (body: object | string, ingestId?: string): Promise<Json> => {
      const response = await post(body, ingestId);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    const get = async (url: string, status = 200): Promise<Json> => {
      const response = await c.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(status);
      return response.json();
    };
    /** Rows of this tenant. */
    const count = async (table: 'samples' | 'series' | 'series_changes' | 'ingest_batches' | 'machines') => {
      if (table === 'samples') return (await storedSamples(db, tenant.tenantId)).length;
      const n = sql<number>`count(*)`.as('n');
      const row =
        table === 'series_changes'
          ? await db.selectFrom(table).innerJoin('series', 'series.id', `${table}.series_id`).where('series.tenant_id', '=', tenant.tenantId).select(n).executeTakeFirstOrThrow()
          : await db.selectFrom(table).where('tenant_id', '=', tenant.tenantId).select(n).executeTakeFirstOrThrow();
      return Number(row.n);
    };
    /** What readers see: samples and samples_recent as one table. */
    const samples = () => storedSamples(db, tenant.tenantId);
    const changes = (name: string) =>
      db
        .selectFrom('series_changes')
        .innerJoin('series', 'series.id', 'series_changes.series_id')
        .select(['series_changes.at', 'series_changes.value'])
        .where('series.name', '=', name)
        .where('series.tenant_id', '=', tenant.tenantId)
        .orderBy('series_changes.at')
        .execute();
    return { c, tenant, key, db, post, ingest, get, count, samples, changes };
  }

  const batch = (metrics: object[], machine: object = { hostname: 'web-01', os: 'linux' }) => ({ machine, metrics, sent_at: null });

  it("stores the seed's example request: a machine, three series of the three types and their values", async () => {
    const t = await start();
    const now = t.c.clock.now();
    const response = await t.post(SEED_BODY, SEED_INGEST_ID);
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json();
    expect(answer).toEqual({ ingest_id: SEED_INGEST_ID, machine_id: expect.stringMatching(UUID), accepted: 3, received_at: iso(now), duplicate: false });

    const machine = await t.get(`/api/v1/machines/${answer.machine_id}`);
    expect(machine).toEqual({
      id: answer.machine_id,
      hostname: 'web-01',
      os: 'linux',
      info: {},
      status: 'up',
      is_active: true,
      tags: [],
      first_seen_at: iso(now),
      last_seen_at: iso(now),
      state_changed_at: iso(now),
      metrics: [
        { series_id: expect.any(Number), name: 'cpu_load', type: 'numeric', unit: 'ratio', labels: {}, value: 0.42, at: iso(now) },
        { series_id: expect.any(Number), name: 'service_nginx_ok', type: 'bool', unit: null, labels: {}, value: true, at: iso(now) },
        { series_id: expect.any(Number), name: 'version', type: 'string', unit: null, labels: {}, value: '1.0.0', at: iso(now) },
      ],
    });
    // Stored as the issue says: a raw sample for the numeric series, a first change for the others.
    expect(await t.samples()).toEqual([{ name: 'cpu_load', labels: '{}', at: now, value: 0.42 }]);
    expect(await t.changes('service_nginx_ok')).toEqual([{ at: now, value: 'true' }]);
    expect(await t.changes('version')).toEqual([{ at: now, value: '1.0.0' }]);
    const kept = await t.db.selectFrom('ingest_batches').selectAll().executeTakeFirstOrThrow();
    expect(kept).toMatchObject({ tenant_id: t.tenant.tenantId, ingest_id: SEED_INGEST_ID, received_at: now, expires_at: now + 24 * HOUR, machine_id: answer.machine_id });
    // The machine is a monitor of kind machine, up since its first batch.
    expect(await t.get(`/api/v1/monitors/${answer.machine_id}`)).toMatchObject({ kind: 'machine', name: 'web-01', state: 'up', failure_threshold: 1 });
  });

  it('the same X-Ingest-Id again stores nothing and answers as the first time, with duplicate: true', async () => {
    const t = await start();
    const id = randomUUID();
    const first = await t.ingest(batch([{ name: 'cpu_load', type: 'numeric', value: 0.5 }]), id);
    t.c.clock.advance(MIN);
    // Even with another body: the id names the batch.
    const again = await t.ingest(
      batch([
        { name: 'cpu_load', type: 'numeric', value: 0.9 },
        { name: 'mem', type: 'numeric', value: 1 },
      ]),
      id,
    );
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await t.samples()).toEqual([{ name: 'cpu_load', labels: '{}', at: Date.parse(first.received_at), value: 0.5 }]);
    expect(await t.count('ingest_batches')).toBe(1);
    expect(await t.count('series')).toBe(1);
    // The id is the same whatever its letter case.
    expect(await t.ingest(batch([]), id.toUpperCase())).toEqual({ ...first, duplicate: true });
    // The duplicate did not touch the machine.
    expect((await t.get(`/api/v1/machines/${first.machine_id}`)).last_seen_at).toBe(first.received_at);
  });

  it('ten copies at once: one is stored, nine are duplicates with the same answer', async () => {
    const t = await start();
    const id = randomUUID();
    const metrics = Array.from({ length: 50 }, (_, i) => ({ name: `m${i}`, type: 'numeric', value: i }));
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.post(batch(metrics), id)));
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const bodies = answers.map((a) => a.json());
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    const { duplicate: _, ...first } = bodies.find((b) => !b.duplicate);
    for (const body of bodies) expect(body).toEqual({ ...first, duplicate: body.duplicate });
    expect(await t.count('samples')).toBe(50);
    expect(await t.count('ingest_batches')).toBe(1);
    expect(await t.count('machines')).toBe(1);
  });

  it('ten different batches of new machines at once are all stored (one transaction, several batches)', async () => {
    const t = await start();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.post(
          batch(
            [
              { name: 'cpu', type: 'numeric', value: i },
              { name: 'ok', type: 'bool', value: i % 2 === 0 },
            ],
            { hostname: `host-${i}` },
          ),
        ),
      ),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    expect(new Set(answers.map((a) => a.json().machine_id)).size).toBe(10);
    expect(await t.count('samples')).toBe(10);
    expect(await t.count('series_changes')).toBe(10);
    expect((await t.get('/api/v1/machines?limit=500')).total).toBe(10);
  });

  describe('validation', () => {
    const good = { name: 'cpu_load', type: 'numeric', value: 0.42 };
    // One app for the cases that need no settings of their own; each case is a new tenant.
    let shared: TestContext | undefined;
    beforeAll(async () => {
      shared = await createTestApp(dialect);
    });
    afterAll(async () => {
      await shared?.close();
    });
    // Each case: its name, the body, and the one error it gives (where, what and the message).
    const cases: [string, object | string, (string | number)[], string, string][] = [
      ['a numeric value that is a string', batch([{ ...good, value: '0.42' }]), ['body', 'metrics', 0, 'value'], 'float_type', "a numeric metric's value is a number, not string"],
      ['a bool value that is a number', batch([good, { name: 'ok', type: 'bool', value: 1 }]), ['body', 'metrics', 1, 'value'], 'bool_type', "a bool metric's value is true or false, not number"],
      ['a string value that is a number', batch([{ name: 'version', type: 'string', value: 1 }]), ['body', 'metrics', 0, 'value'], 'string_type', "a string metric's value is a string, not number"],
      ['a numeric value of null', batch([{ ...good, value: null }]), ['body', 'metrics', 0, 'value'], 'float_type', "a numeric metric's value is a number, not null"],
      [
        'an infinite number (1e999)',
        '{"machine":{"hostname":"h"},"metrics":[{"name":"x","type":"numeric","value":1e999}]}',
        ['body', 'metrics', 0, 'value'],
        'value_error',
        'value must be a finite number',
      ],
      ['a missing value', batch([{ name: 'x', type: 'numeric' }]), ['body', 'metrics', 0, 'value'], 'missing', 'Field required'],
      ['a missing name (4th metric)', batch([good, good, { ...good, name: 'b' }, { type: 'numeric', value: 1 }]), ['body', 'metrics', 3, 'name'], 'missing', 'Field required'],
      ['a name with a space', batch([{ ...good, name: 'cpu load' }]), ['body', 'metrics', 0, 'name'], 'value_error', 'name must match ^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$'],
      ['an unknown type', batch([{ ...good, type: 'float' }]), ['body', 'metrics', 0, 'type'], 'enum', 'Input should be one of: "numeric", "bool", "string"'],
      ['labels that are a list', batch([{ ...good, labels: ['a'] }]), ['body', 'metrics', 0, 'labels'], 'object_type', 'labels must be an object of string values, not array'],
      ['a label value that is a number', batch([{ ...good, labels: { core: 3 } }]), ['body', 'metrics', 0, 'labels', 'core'], 'string_type', 'label values are strings, not number'],
      [
        'a label name with a space',
        batch([{ ...good, labels: { 'bad key': 'x' } }]),
        ['body', 'metrics', 0, 'labels', 'bad key'],
        'value_error',
        'label name "bad key" must match ^[A-Za-z_][A-Za-z0-9_.-]{0,63}$',
      ],
      ['an unknown field in a metric', batch([{ ...good, colour: 'red' }]), ['body', 'metrics', 0, 'colour'], 'extra_forbidden', 'Extra field not permitted'],
      [
        'ts that is not a date',
        batch([{ ...good, ts: 'yesterday' }]),
        ['body', 'metrics', 0, 'ts'],
        'value_error',
        'ts must be ISO 8601 with a time zone (e.g. 2026-11-23T10:00:00Z) or epoch milliseconds',
      ],
      [
        'ts without a time zone',
        batch([{ ...good, ts: '2026-11-21T12:00:00' }]),
        ['body', 'metrics', 0, 'ts'],
        'value_error',
        'ts must be ISO 8601 with a time zone (e.g. 2026-11-23T10:00:00Z) or epoch milliseconds',
      ],
      [
        'ts in epoch seconds',
        batch([{ ...good, ts: 1_795_000_000 }]),
        ['body', 'metrics', 0, 'ts'],
        'value_error',
        'ts 1970-01-21T18:36:40.000Z is before 2000 (epoch seconds sent instead of milliseconds?)',
      ],
      [
        // A safe integer past the last date there is (8.64e15 ms): its message cannot be a date (was a 500).
        'ts past the last date a Date can hold',
        batch([{ ...good, ts: 9_000_000_000_000_000 }]),
        ['body', 'metrics', 0, 'ts'],
        'value_error',
        "ts 9000000000000000 ms is more than 5 minutes ahead of the server's clock",
      ],
      [
        'ts with a fraction of a millisecond',
        batch([{ ...good, ts: 1_795_000_000_000.5 }]),
        ['body', 'metrics', 0, 'ts'],
        'value_error',
        'ts must be an integer of epoch milliseconds or an ISO 8601 string',
      ],
      ['one series sent with two types', batch([good, { ...good, type: 'string', value: 'x' }]), ['body', 'metrics', 1, 'type'], 'value_error', 'cpu_load {} appears earlier in this batch as numeric'],
      ['no machine', { metrics: [good] }, ['body', 'machine'], 'missing', 'Field required'],
      ['a machine without hostname', batch([good], { os: 'linux' }), ['body', 'machine', 'hostname'], 'missing', 'Field required'],
      [
        'an empty hostname',
        batch([good], { hostname: ' ' }),
        ['body', 'machine', 'hostname'],
        'value_error',
        'hostname must be a non-empty string of at most 253 characters without control characters',
      ],
      ['tags that are not strings', batch([good], { hostname: 'h', tags: [1] }), ['body', 'machine', 'tags', 0], 'value_error', 'a tag is a string of 1 to 100 characters'],
      ['no metrics', { machine: { hostname: 'h' } }, ['body', 'metrics'], 'missing', 'Field required'],
      ['metrics that are not a list', { machine: { hostname: 'h' }, metrics: {} }, ['body', 'metrics'], 'list_type', 'metrics must be a list, not object'],
      ['an unknown top-level field', { ...batch([good]), extra: 1 }, ['body', 'extra'], 'extra_forbidden', 'Extra field not permitted'],
      ['sent_at that is not a date', { ...batch([good]), sent_at: 'now' }, ['body', 'sent_at'], 'value_error', 'sent_at must be null or ISO 8601 with a time zone'],
      ['a body that is a list', '[]', ['body'], 'object_type', 'the body is a JSON object, not array'],
    ];

    it.each(cases)('%s → 422 at the item, nothing stored', async (_, body, loc, type, msg) => {
      const t = await session(shared!);
      const response = await t.post(body);
      expect(response.statusCode, response.body).toBe(422);
      const { detail } = response.json();
      expect(detail).toEqual([{ loc, msg, type }]);
      expect(await t.count('machines')).toBe(0);
      expect(await t.count('ingest_batches')).toBe(0);
    });

    it('ts more than 5 minutes ahead of the server is refused; 4 minutes ahead is accepted', async () => {
      const t = await session(shared!);
      const now = t.c.clock.now();
      const ahead = await t.post(batch([{ ...good, ts: iso(now + 6 * MIN) }]));
      expect(ahead.statusCode).toBe(422);
      expect(ahead.json().detail[0]).toMatchObject({ loc: ['body', 'metrics', 0, 'ts'], msg: expect.stringContaining("ahead of the server's clock") });
      expect((await t.post(batch([{ ...good, ts: iso(now + 4 * MIN) }]))).statusCode).toBe(200);
    });

    it('every bad item is named, up to 100 problems', async () => {
      const t = await session(shared!);
      const response = await t.post(batch(Array.from({ length: 300 }, () => ({ name: 'x', type: 'bool', value: 'yes' }))));
      expect(response.statusCode).toBe(422);
      const { detail } = response.json();
      expect(detail).toHaveLength(100);
      expect(detail[99].loc).toEqual(['body', 'metrics', 99, 'value']);
    });

    it('X-Ingest-Id missing or not a UUID → 422 naming the header', async () => {
      const t = await session(shared!);
      for (const id of [null, 'not-a-uuid', '11111111-1111-1111-1111-11111111111']) {
        const response = await t.post(batch([good]), id);
        expect(response.statusCode, String(id)).toBe(422);
        expect(response.json().detail).toEqual([{ loc: ['header', 'x-ingest-id'], msg: expect.stringContaining('X-Ingest-Id'), type: id === null ? 'missing' : 'uuid_parsing' }]);
      }
      expect(await t.count('ingest_batches')).toBe(0);
    });

    it('more than INGEST_MAX_METRICS metrics → 422 naming the limit; exactly the limit is accepted', async () => {
      const t = await start({ env: { INGEST_MAX_METRICS: '5' } });
      const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `m${i}`, type: 'numeric', value: i }));
      const response = await t.post(batch(metrics(6)));
      expect(response.statusCode).toBe(422);
      expect(response.json().detail).toEqual([{ loc: ['body', 'metrics'], msg: expect.stringMatching(/6.*limit is 5 \(INGEST_MAX_METRICS\)/), type: 'too_long' }]);
      expect((await t.ingest(batch(metrics(5)))).accepted).toBe(5);
    });

    it('a body over INGEST_BODY_LIMIT_BYTES → 413 with a {detail} message', async () => {
      const t = await start({ env: { INGEST_BODY_LIMIT_BYTES: '2048' } });
      const big = batch(Array.from({ length: 100 }, (_, i) => ({ name: `metric_${i}`, type: 'numeric', value: i })));
      const response = await t.post(big);
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({ detail: 'Request body is larger than the ingest limit of 2048 bytes (INGEST_BODY_LIMIT_BYTES); send the metrics in several requests' });
      expect((await t.post(batch(big.metrics.slice(0, 5)))).statusCode).toBe(200);
    });

    it('the default body limit takes 10,000 metrics with labels', async () => {
      const t = await start();
      const metrics = Array.from({ length: 10_000 }, (_, i) => ({
        name: `disk_used_bytes_${i % 100}`,
        type: 'numeric',
        value: i * 1.5,
        unit: 'bytes',
        labels: { mount: `/mnt/volume-${i}`, device: `nvme${i % 8}n1` },
      }));
      expect(JSON.stringify(batch(metrics)).length).toBeGreaterThan(1024 * 1024); // over the app-wide limit
      expect((await t.ingest(batch(metrics))).accepted).toBe(10_000);
      expect(await t.count('samples')).toBe(10_000);
    });

    it('a metric whose series has another type → 422 at the item, and nothing of the batch is stored', async () => {
      const t = await session(shared!);
      await t.ingest(batch([{ name: 'version', type: 'string', value: '1.0.0' }]));
      const id = randomUUID();
      const response = await t.post(batch([good, { name: 'version', type: 'numeric', value: 2 }]), id);
      expect(response.statusCode).toBe(422);
      expect(response.json().detail).toEqual([{ loc: ['body', 'metrics', 1, 'type'], msg: expect.stringContaining('is a string series'), type: 'value_error' }]);
      expect(await t.count('samples')).toBe(0);
      expect(await t.count('ingest_batches')).toBe(1);
      // The id was not used up: the corrected batch is stored under it.
      expect(await t.ingest(batch([good]), id)).toMatchObject({ duplicate: false, accepted: 1 });
    });

    it('no key → 401; a read-only key → 403; an ingest key → 200', async () => {
      const t = await session(shared!);
      const body = JSON.stringify(batch([good]));
      const send = (headers: Record<string, string>) =>
        t.c.app.inject({ method: 'POST', url: '/api/v1/ingest/metrics', headers: { 'content-type': 'application/json', 'x-ingest-id': randomUUID(), ...headers }, payload: body });
      const none = await send({});
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ detail: 'Not authenticated: send an X-API-Key header or an Authorization: Bearer token' });
      const readOnly = await createTenantWithKey(t.c, 'read-only');
      const forbidden = await send({ 'x-api-key': readOnly.apiKey });
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json()).toEqual({ detail: 'This API key\'s scope does not allow this operation (needs "ingest")' });
      const ingestOnly = await createTenantWithKey(t.c, 'ingest');
      expect((await send({ 'x-api-key': ingestOnly.apiKey })).statusCode).toBe(200);
      // An ingest key cannot read what it sent.
      expect((await t.c.app.inject({ method: 'GET', url: '/api/v1/machines', headers: { 'x-api-key': ingestOnly.apiKey } })).statusCode).toBe(403);
    });
  });

  it('ts: ISO 8601 with an offset, epoch milliseconds, or the receive time when absent; same series and time again keeps the last value', async () => {
    const t = await start();
    const now = t.c.clock.now();
    await t.ingest(
      batch([
        { name: 'a', type: 'numeric', value: 1, ts: '2026-11-21T13:00:00+02:00' },
        { name: 'b', type: 'numeric', value: 2, ts: now - 30_000 },
        { name: 'c', type: 'numeric', value: 3 },
        { name: 'd', type: 'numeric', value: 4, ts: '2026-11-21T11:59:59.250Z' },
      ]),
    );
    expect((await t.samples()).map((s) => [s.name, s.at])).toEqual([
      ['a', Date.UTC(2026, 10, 21, 11, 0, 0)],
      ['b', now - 30_000],
      ['c', now],
      ['d', now - 750],
    ]);
    // Last write wins, within a batch and across batches.
    await t.ingest(
      batch([
        { name: 'b', type: 'numeric', value: 20, ts: now - 30_000 },
        { name: 'b', type: 'numeric', value: 21, ts: now - 30_000 },
      ]),
    );
    await t.ingest(batch([{ name: 'c', type: 'numeric', value: 30, ts: now }]));
    expect((await t.samples()).filter((s) => s.name === 'b' || s.name === 'c').map((s) => [s.name, s.at, s.value])).toEqual([
      ['b', now - 30_000, 21],
      ['c', now, 30],
    ]);
  });

  it('the latest numeric value moves forward only: a late sample is stored but is not the latest', async () => {
    const t = await start();
    const now = t.c.clock.now();
    const { machine_id } = await t.ingest(batch([{ name: 'temp', type: 'numeric', value: 50, ts: now - 1000 }]));
    await t.ingest(batch([{ name: 'temp', type: 'numeric', value: 40, ts: now - 60_000 }]));
    expect((await t.get(`/api/v1/machines/${machine_id}`)).metrics).toEqual([expect.objectContaining({ name: 'temp', value: 50, at: iso(now - 1000) })]);
    expect((await t.samples()).map((s) => s.value)).toEqual([40, 50]);
  });

  it('labels name the series whatever their order; other labels are another series', async () => {
    const t = await start();
    await t.ingest(batch([{ name: 'disk_used', type: 'numeric', value: 1, labels: { mount: '/', device: 'sda1' } }]));
    t.c.clock.advance(1000);
    await t.ingest(batch([{ name: 'disk_used', type: 'numeric', value: 2, labels: { device: 'sda1', mount: '/' } }]));
    t.c.clock.advance(1000);
    await t.ingest(
      batch([
        { name: 'disk_used', type: 'numeric', value: 3, labels: { device: 'sdb1', mount: '/data' } },
        { name: 'disk_used', type: 'numeric', value: 4 },
      ]),
    );
    const series = await t.db.selectFrom('series').select(['name', 'labels']).orderBy('id').execute();
    expect(series).toEqual([
      { name: 'disk_used', labels: '{"device":"sda1","mount":"/"}' },
      { name: 'disk_used', labels: '{"device":"sdb1","mount":"/data"}' },
      { name: 'disk_used', labels: '{}' },
    ]);
    expect((await t.samples()).filter((s) => s.labels === '{"device":"sda1","mount":"/"}').map((s) => s.value)).toEqual([1, 2]);
  });

  it('bool and string series keep a change only when the value differs from the one before', async () => {
    const t = await start();
    const t0 = t.c.clock.now() - 10 * MIN;
    const values: [boolean, string][] = [
      [true, '1.0.0'],
      [true, '1.0.0'],
      [false, '1.0.0'],
      [false, '1.1.0'],
      [true, '1.1.0'],
    ];
    let machineId = '';
    for (const [i, [ok, version]] of values.entries()) {
      const at = t0 + i * MIN;
      ({ machine_id: machineId } = await t.ingest(
        batch([
          { name: 'nginx_ok', type: 'bool', value: ok, ts: at },
          { name: 'version', type: 'string', value: version, ts: iso(at) },
        ]),
      ));
    }
    expect(await t.changes('nginx_ok')).toEqual([
      { at: t0, value: 'true' },
      { at: t0 + 2 * MIN, value: 'false' },
      { at: t0 + 4 * MIN, value: 'true' },
    ]);
    expect(await t.changes('version')).toEqual([
      { at: t0, value: '1.0.0' },
      { at: t0 + 3 * MIN, value: '1.1.0' },
    ]);
    // The latest value is the last one sent, with its time, even when unchanged.
    expect((await t.get(`/api/v1/machines/${machineId}`)).metrics.map((m: Json) => [m.name, m.value, m.at])).toEqual([
      ['nginx_ok', true, iso(t0 + 4 * MIN)],
      ['version', '1.1.0', iso(t0 + 4 * MIN)],
    ]);

    // Several values of one series in one batch, out of order: taken in time order.
    await t.ingest(
      batch([
        { name: 'version', type: 'string', value: '1.3.0', ts: t0 + 7 * MIN },
        { name: 'version', type: 'string', value: '1.2.0', ts: t0 + 6 * MIN },
        { name: 'version', type: 'string', value: '1.2.0', ts: t0 + 5 * MIN },
      ]),
    );
    expect((await t.changes('version')).slice(2)).toEqual([
      { at: t0 + 5 * MIN, value: '1.2.0' },
      { at: t0 + 7 * MIN, value: '1.3.0' },
    ]);
    // A late value (older than the latest) is a change if it differs from the value of its time; the latest stays.
    await t.ingest(batch([{ name: 'nginx_ok', type: 'bool', value: false, ts: t0 + MIN }]));
    await t.ingest(batch([{ name: 'nginx_ok', type: 'bool', value: false, ts: t0 + 3 * MIN }])); // already false then
    expect(await t.changes('nginx_ok')).toEqual([
      { at: t0, value: 'true' },
      { at: t0 + MIN, value: 'false' },
      { at: t0 + 2 * MIN, value: 'false' },
      { at: t0 + 4 * MIN, value: 'true' },
    ]);
    expect((await t.get(`/api/v1/machines/${machineId}`)).metrics[0]).toMatchObject({ name: 'nginx_ok', value: true, at: iso(t0 + 4 * MIN) });
    expect(await t.count('samples')).toBe(0); // bool and string values are not raw samples
  });

  it('registers a machine on its first batch and keeps it current: last seen, os, info, tags; records up once', async () => {
    const t = await start();
    const first = await t.ingest(batch([{ name: 'cpu', type: 'numeric', value: 1 }], { hostname: 'db-01', os: 'linux', arch: 'arm64', tags: ['prod', 'db'] }));
    const firstSeen = t.c.clock.now();
    t.c.clock.advance(5 * MIN);
    // Only the hostname: os, info and tags are kept.
    const second = await t.ingest(batch([{ name: 'cpu', type: 'numeric', value: 2 }], { hostname: 'db-01' }));
    expect(second.machine_id).toBe(first.machine_id);
    expect(await t.get(`/api/v1/machines/${first.machine_id}`)).toMatchObject({
      hostname: 'db-01',
      os: 'linux',
      info: { arch: 'arm64' },
      tags: ['db', 'prod'],
      first_seen_at: iso(firstSeen),
      last_seen_at: iso(firstSeen + 5 * MIN),
      status: 'up',
    });
    t.c.clock.advance(MIN);
    await t.ingest(batch([], { hostname: 'db-01', os: 'freebsd', arch: 'amd64', kernel: '14.1', tags: ['staging'] }));
    expect(await t.get(`/api/v1/machines/${first.machine_id}`)).toMatchObject({ os: 'freebsd', info: { arch: 'amd64', kernel: '14.1' }, tags: ['staging'], last_seen_at: iso(firstSeen + 6 * MIN) });
    // Its history is its batches, newest first; the first one's result (pending → up) is that same event, shown once.
    const received = (at: number) => ({ at: iso(at), status: 'up', latency_ms: null, value: null, message: 'metrics received', source: 'ingest' });
    expect(await t.get(`/api/v1/monitors/${first.machine_id}/results`)).toEqual([received(firstSeen + 6 * MIN), received(firstSeen + 5 * MIN), received(firstSeen)]);
    // Later batches of an up machine change nothing of the monitor: one flip, pending → up.
    const flips = await t.c.database.db.selectFrom('monitor_flips').select(['from_state', 'to_state']).where('monitor_id', '=', first.machine_id).execute();
    expect(flips).toEqual([{ from_state: 'pending', to_state: 'up' }]);
    // Another hostname is another machine; the same hostname in another tenant too.
    const other = await t.ingest(batch([], { hostname: 'db-02' }));
    expect(other.machine_id).not.toBe(first.machine_id);
    expect(await t.count('machines')).toBe(2);
  });

  it('GET /api/v1/machines: status, tags, last seen; filters by status, tag and hostname; paginated; other tenants see nothing', async () => {
    const t = await start();
    const ids: Record<string, string> = {};
    for (const [hostname, tags] of [
      ['web-01', ['web']],
      ['web-02', ['web']],
      ['db-01', ['db']],
    ] as const) {
      ids[hostname] = (await t.ingest(batch([{ name: 'cpu', type: 'numeric', value: 1 }], { hostname, os: 'linux', tags: [...tags] }))).machine_id;
    }
    await t.c.app.inject({ method: 'POST', url: `/api/v1/monitors/${ids['web-02']}/pause`, headers: { 'x-api-key': t.key } });
    const all = await t.get('/api/v1/machines');
    expect(all).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect(all.items.map((m: Json) => [m.hostname, m.status, m.tags])).toEqual([
      ['db-01', 'up', ['db']],
      ['web-01', 'up', ['web']],
      ['web-02', 'paused', ['web']],
    ]);
    expect(all.items[0]).toEqual({
      id: ids['db-01'],
      hostname: 'db-01',
      os: 'linux',
      info: {},
      status: 'up',
      is_active: true,
      tags: ['db'],
      first_seen_at: iso(t.c.clock.now()),
      last_seen_at: iso(t.c.clock.now()),
      state_changed_at: iso(t.c.clock.now()),
    });
    const hostnames = async (query: string) => (await t.get(`/api/v1/machines?${query}`)).items.map((m: Json) => m.hostname);
    expect(await hostnames('status=up')).toEqual(['db-01', 'web-01']);
    expect(await hostnames('tag=web')).toEqual(['web-01', 'web-02']);
    expect(await hostnames('search=WEB-0')).toEqual(['web-01', 'web-02']);
    expect(await hostnames('search=%25')).toEqual([]);
    expect(await t.get('/api/v1/machines?limit=1&offset=1')).toMatchObject({ total: 3, items: [{ hostname: 'web-01' }] });
    expect((await t.c.app.inject({ method: 'GET', url: '/api/v1/machines?status=sleeping', headers: { 'x-api-key': t.key } })).statusCode).toBe(422);

    const other = await createTenantWithKey(t.c, 'full');
    const theirs = await t.c.app.inject({ method: 'GET', url: '/api/v1/machines', headers: { 'x-api-key': other.apiKey } });
    expect(theirs.json()).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
    const one = await t.c.app.inject({ method: 'GET', url: `/api/v1/machines/${ids['db-01']}`, headers: { 'x-api-key': other.apiKey } });
    expect(one.statusCode).toBe(404);
    expect(one.json()).toEqual({ detail: 'Machine not found' });
    await t.get(`/api/v1/machines/${randomUUID()}`, 404);
    // The same hostname in another tenant is that tenant's own machine.
    const theirMachine = await t.c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/metrics',
      headers: { 'x-api-key': other.apiKey, 'x-ingest-id': randomUUID(), 'content-type': 'application/json' },
      payload: batch([], { hostname: 'db-01' }),
    });
    expect(theirMachine.json().machine_id).not.toBe(ids['db-01']);
  });

  it('GET /api/v1/machines/{id}: the latest value of each series, by name then labels, with unit and labels', async () => {
    const t = await start();
    const now = t.c.clock.now();
    const { machine_id } = await t.ingest(
      batch([
        { name: 'disk_used', type: 'numeric', value: 10, unit: 'percent', labels: { mount: '/var' } },
        { name: 'disk_used', type: 'numeric', value: 20, unit: 'percent', labels: { mount: '/' } },
        { name: 'backup_ok', type: 'bool', value: false },
      ]),
    );
    t.c.clock.advance(MIN);
    await t.ingest(batch([{ name: 'disk_used', type: 'numeric', value: 11, unit: 'ratio', labels: { mount: '/var' } }]));
    const machine = await t.get(`/api/v1/machines/${machine_id}`);
    expect(machine.metrics.map((m: Json) => ({ ...m, series_id: 0 }))).toEqual([
      { series_id: 0, name: 'backup_ok', type: 'bool', unit: null, labels: {}, value: false, at: iso(now) },
      { series_id: 0, name: 'disk_used', type: 'numeric', unit: 'percent', labels: { mount: '/' }, value: 20, at: iso(now) },
      { series_id: 0, name: 'disk_used', type: 'numeric', unit: 'ratio', labels: { mount: '/var' }, value: 11, at: iso(now + MIN) },
    ]);
  });

  it('tells sample listeners what was stored, after the commit, and nothing for a duplicate or a refused batch', async () => {
    const t = await start();
    const heard: StoredSamples[] = [];
    t.c.services.sampleEvents.listen((stored) => heard.push(stored));
    const id = randomUUID();
    const now = t.c.clock.now();
    const { machine_id } = await t.ingest(
      batch([
        { name: 'cpu', type: 'numeric', value: 0.5, labels: { core: '0' } },
        { name: 'ok', type: 'bool', value: true },
        { name: 'version', type: 'string', value: '2.0' },
      ]),
      id,
    );
    expect(heard).toEqual([
      {
        tenantId: t.tenant.tenantId,
        machineId: machine_id,
        // StoredSample's fields (the objects may carry more).
        samples: [
          expect.objectContaining({ seriesId: expect.any(Number), name: 'cpu', type: 'numeric', labels: { core: '0' }, at: now, value: 0.5, text: null }),
          expect.objectContaining({ seriesId: expect.any(Number), name: 'ok', type: 'bool', labels: {}, at: now, value: 1, text: null }),
          expect.objectContaining({ seriesId: expect.any(Number), name: 'version', type: 'string', labels: {}, at: now, value: null, text: '2.0' }),
        ],
      },
    ]);
    const stored = await t.db.selectFrom('series').select(['id', 'name']).execute();
    expect(heard[0]!.samples.map((s) => s.seriesId).sort()).toEqual(stored.map((s) => Number(s.id)).sort());
    await t.ingest(batch([]), id);
    await t.post(batch([{ name: 'cpu', type: 'bool', value: true, labels: { core: '0' } }]));
    expect(heard).toHaveLength(1);
  });

  it('a series deleted behind the cache is found missing and created again (the failed transaction is retried)', async () => {
    const t = await start();
    const { machine_id } = await t.ingest(
      batch([
        { name: 'cpu', type: 'numeric', value: 1 },
        { name: 'ok', type: 'bool', value: true },
      ]),
    );
    // Deleted by hand: the writer's cache still holds the ids.
    await t.db.deleteFrom('series').where('machine_id', '=', machine_id).execute();
    t.c.clock.advance(1000);
    const answer = await t.ingest(
      batch([
        { name: 'cpu', type: 'numeric', value: 2 },
        { name: 'ok', type: 'bool', value: false },
      ]),
    );
    expect(answer).toMatchObject({ machine_id, accepted: 2 });
    expect((await t.samples()).map((s) => s.value)).toEqual([2]);
    expect(await t.changes('ok')).toEqual([{ at: t.c.clock.now(), value: 'false' }]);
  });

  it('a machine deleted with its monitor is registered again by its next batch, with a new id', async () => {
    const t = await start();
    const { machine_id } = await t.ingest(batch([{ name: 'cpu', type: 'numeric', value: 1 }]));
    await t.c.services.monitors.remove(t.tenant.tenantId, machine_id);
    expect(await t.count('series')).toBe(0);
    const again = await t.ingest(batch([{ name: 'cpu', type: 'numeric', value: 2 }]));
    expect(again.machine_id).not.toBe(machine_id);
    expect((await t.samples()).map((s) => s.value)).toEqual([2]);
  });
});
