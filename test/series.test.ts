/**
 * The series store's read API on real databases, through the app: the list and its filters, the
 * choice of raw samples, minute or hour buckets by range (and by `step`), points checked against
 * aggregates the test computes from the samples it wrote, the change history of bool and string
 * series, the export formats parsed back and compared with the JSON answer, and validation.
 * Fixtures are written straight into the tables (test/helpers/metrics-fixtures.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/metrics/buckets.js';
import { EXPORT_COLUMNS } from '../src/metrics/export-format.js';
import { rollUpSeries } from '../src/metrics/rollups.js';
import { readStoreMarks, writeStoreMark } from '../src/metrics/store-marks.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { aggregateSamples, insertChanges, insertMachine, insertSamples, insertSeries, type FixtureSeries, type RawSample } from './helpers/metrics-fixtures.js';

const SECOND = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** RFC 4180: quoted fields may hold commas, doubled quotes, CR and LF; records end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF');
  return rows;
}

/** CSV records as objects keyed by the header. */
function csvObjects(text: string): Record<string, string>[] {
  const [header, ...records] = parseCsv(text);
  expect(header).toEqual([...EXPORT_COLUMNS]);
  return records.map((record) => Object.fromEntries(header!.map((name, i) => [name, record[i]!])));
}

/** A JSON value as its CSV field: null empty, the rest as JavaScript prints it. */
// eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects took the JSON.stringify branch; TypeScript does not narrow `{}` by typeof
const csvText = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** Expected bucket points of `size` over whole buckets covering [from, to]. */
function expectedBuckets(samples: readonly RawSample[], size: number, from: number, to: number) {
  const start = Math.floor(from / size) * size;
  const end = Math.floor(to / size) * size + size;
  return aggregateSamples(
    samples.filter((s) => s.at >= start && s.at < end),
    size,
  ).map((a) => ({ t: iso(a.bucket_start), min: a.min, max: a.max, avg: a.sum / a.count, count: a.count, last: a.last }));
}

describe.each(TEST_DIALECTS)('series API on %s', (dialect) => {
  let ctx: TestContext;
  /** 2026-11-21 12:00:00 UTC: the manual clock's start. */
  let t0: number;
  let headers: Record<string, string>;
  let tenantId: string;

  afterEach(async () => {
    await ctx?.close();
  });

  const db = () => ctx.database.db;

  async function start() {
    ctx = await createTestApp(dialect);
    t0 = ctx.clock.now();
    const tenant = await createTenantWithKey(ctx, 'read-only');
    tenantId = tenant.tenantId;
    headers = { 'x-api-key': tenant.apiKey };
  }

  /** Two machines of the tenant and their series, as an agent's first ingests would leave them. */
  async function seedSeries() {
    const web = await insertMachine(db(), { tenantId, hostname: 'web-01', now: t0 - 10 * DAY_MS });
    const dbHost = await insertMachine(db(), { tenantId, hostname: 'db-01', now: t0 - 10 * DAY_MS });
    const make = (machineId: string, name: string, extra: Partial<Parameters<typeof insertSeries>[1]> = {}) => insertSeries(db(), { tenantId, machineId, name, now: t0 - 10 * DAY_MS, ...extra });
    const series = {
      cpu: await make(web, 'cpu_load', { unit: 'ratio' }),
      diskRoot: await make(web, 'disk_used', { unit: 'bytes', labels: { mount: '/', fs: 'ext4' } }),
      diskVar: await make(web, 'disk_used', { unit: 'bytes', labels: { mount: '/var', fs: 'xfs' } }),
      nginx: await make(web, 'nginx_ok', { type: 'bool' }),
      version: await make(web, 'version', { type: 'string' }),
      dbCpu: await make(dbHost, 'cpu_load', { unit: 'ratio' }),
    };
    await insertSamples(db(), series.cpu, [{ at: t0 - 30 * SECOND, value: 0.42 }]);
    await insertSamples(db(), series.diskRoot, [{ at: t0 - 40 * SECOND, value: 1_000 }]);
    await insertSamples(db(), series.diskVar, [{ at: t0 - 50 * SECOND, value: 2_000 }]);
    await insertSamples(db(), series.dbCpu, [{ at: t0 - 20 * SECOND, value: 0.1 }]);
    await insertChanges(db(), series.nginx, [
      { at: t0 - 5 * HOUR_MS, value: 'true' },
      { at: t0 - 3 * HOUR_MS, value: 'false' },
      { at: t0 - 2 * HOUR_MS, value: 'true' },
      { at: t0 - 30 * MINUTE_MS, value: 'false' },
    ]);
    await insertChanges(db(), series.version, [
      { at: t0 - 2 * DAY_MS, value: '1.0.0' },
      { at: t0 - 20 * MINUTE_MS, value: 'release "2",\r\nhotfix' },
    ]);
    return { web, dbHost, series };
  }

  const get = (url: string, as: Record<string, string> = headers) => ctx.app.inject({ method: 'GET', url, headers: as });
  const points = (series: FixtureSeries | number | string, query = '') => get(`/api/v1/series/${typeof series === 'object' ? series.id : series}/points${query ? `?${query}` : ''}`);
  const range = (from: number, to: number) => `from=${iso(from)}&to=${iso(to)}`;

  describe('listing', () => {
    it('lists series with their machine, labels and typed latest value, ordered by hostname and name', async () => {
      await start();
      const { web, series } = await seedSeries();
      const response = await get('/api/v1/series');
      expect(response.statusCode).toBe(200);
      const page = response.json();
      expect(page.total).toBe(6);
      expect(page.items.map((s: { hostname: string; name: string }) => `${s.hostname} ${s.name}`)).toEqual([
        'db-01 cpu_load',
        'web-01 cpu_load',
        'web-01 disk_used',
        'web-01 disk_used',
        'web-01 nginx_ok',
        'web-01 version',
      ]);
      expect(page.items[1]).toEqual({
        id: series.cpu.id,
        machine_id: web,
        hostname: 'web-01',
        name: 'cpu_load',
        type: 'numeric',
        unit: 'ratio',
        labels: {},
        last_value: 0.42,
        last_at: iso(t0 - 30 * SECOND),
        created_at: iso(t0 - 10 * DAY_MS),
      });
      expect(page.items[2].labels).toEqual({ fs: 'ext4', mount: '/' });
      expect(page.items[4]).toMatchObject({ type: 'bool', last_value: false, last_at: iso(t0 - 30 * MINUTE_MS) });
      expect(page.items[5]).toMatchObject({ type: 'string', last_value: 'release "2",\r\nhotfix', unit: null });

      const one = await get(`/api/v1/series/${series.nginx.id}`);
      expect(one.statusCode).toBe(200);
      expect(one.json()).toEqual(page.items[4]);
    });

    it('filters by machine (hostname or id), name, type and labels (all must match), and paginates', async () => {
      await start();
      const { dbHost, series } = await seedSeries();
      const ids = async (query: string) => {
        const response = await get(`/api/v1/series?${query}`);
        expect(response.statusCode, response.body).toBe(200);
        return response.json().items.map((s: { id: number }) => s.id);
      };
      expect(await ids('machine=web-01')).toEqual([series.cpu.id, series.diskRoot.id, series.diskVar.id, series.nginx.id, series.version.id]);
      expect(await ids(`machine=${dbHost}`)).toEqual([series.dbCpu.id]);
      expect(await ids('machine=nowhere')).toEqual([]);
      expect(await ids('name=cpu_load')).toEqual([series.dbCpu.id, series.cpu.id]);
      expect(await ids('name=cpu_load&machine=web-01')).toEqual([series.cpu.id]);
      expect(await ids('type=bool')).toEqual([series.nginx.id]);
      expect(await ids(`label=${encodeURIComponent('mount=/var')}`)).toEqual([series.diskVar.id]);
      expect(await ids(`label=${encodeURIComponent('mount=/')}&label=fs=ext4`)).toEqual([series.diskRoot.id]);
      expect(await ids(`label=${encodeURIComponent('mount=/')}&label=fs=xfs`)).toEqual([]);
      expect(await ids('label=fs=')).toEqual([]);

      const page = (await get('/api/v1/series?limit=2&offset=1')).json();
      expect(page).toMatchObject({ total: 6, limit: 2, offset: 1 });
      expect(page.items.map((s: { id: number }) => s.id)).toEqual([series.cpu.id, series.diskRoot.id]);
    });

    it("shows only the caller's tenant, needs the read permission, and refuses a malformed label", async () => {
      await start();
      const { series } = await seedSeries();
      const other = await createTenantWithKey(ctx, 'full');
      const otherMachine = await insertMachine(db(), { tenantId: other.tenantId, hostname: 'web-01', now: t0 });
      const theirs = await insertSeries(db(), { tenantId: other.tenantId, machineId: otherMachine, name: 'cpu_load', now: t0 });

      const mine = (await get('/api/v1/series?name=cpu_load')).json();
      expect(mine.items.map((s: { id: number }) => s.id)).not.toContain(theirs.id);
      const seen = (await get('/api/v1/series', { 'x-api-key': other.apiKey })).json();
      expect(seen.items.map((s: { id: number }) => s.id)).toEqual([theirs.id]);
      expect((await get(`/api/v1/series/${series.cpu.id}`, { 'x-api-key': other.apiKey })).statusCode).toBe(404);

      const ingestOnly = await createTenantWithKey(ctx, 'ingest');
      expect((await get('/api/v1/series', { 'x-api-key': ingestOnly.apiKey })).statusCode).toBe(403);

      const bad = await get('/api/v1/series?label=fs%3Dext4&label=no-equals-sign');
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail).toEqual([{ loc: ['query', 'label', 1], msg: 'expected key=value, got "no-equals-sign"', type: 'value_error' }]);
    });
  });

  describe('points of a numeric series', () => {
    /** A sample every 10 s for 3 days up to now; values are multiples of 1/8 (exact sums). */
    let samples: RawSample[];
    let cpu: FixtureSeries;

    async function startWithHistory() {
      await start();
      cpu = (await seedSeries()).series.cpu;
      samples = Array.from({ length: 3 * 8640 + 1 }, (_, i) => ({ at: t0 - 3 * DAY_MS + i * 10 * SECOND, value: ((i * 37) % 101) / 8 - 6 }));
      await insertSamples(db(), cpu, samples);
      // Rollups ran until 90 minutes ago: older data comes from rollups, newer from raw samples.
      ctx.clock.set(t0 - 90 * MINUTE_MS);
      for (let i = 0; i < 100; i++) {
        const report = await rollUpSeries(db(), ctx.clock.now());
        if (report.minuteBuckets === 0 && report.hourBuckets === 0) break;
      }
      ctx.clock.set(t0);
      const marks = await readStoreMarks(db());
      expect([marks.minuteWatermark, marks.hourWatermark]).toEqual([t0 - 92 * MINUTE_MS, t0 - 2 * HOUR_MS]);
    }

    const rawBetween = (from: number, to: number) => samples.filter((s) => s.at >= from && s.at <= to).map((s) => ({ t: iso(s.at), value: s.value }));

    it('answers the last hour from raw samples by default', async () => {
      await startWithHistory();
      const response = await points(cpu);
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-vigie-resolution']).toBe('raw');
      const body = response.json();
      expect(body).toMatchObject({ from: iso(t0 - HOUR_MS), to: iso(t0), resolution: 'raw', step_seconds: null, initial: null });
      expect(body.series).toEqual({ id: cpu.id, machine_id: cpu.machineId, hostname: 'web-01', name: 'cpu_load', type: 'numeric', unit: 'ratio', labels: {} });
      expect(body.points).toHaveLength(361);
      expect(body.points).toEqual(rawBetween(t0 - HOUR_MS, t0));
    });

    it('answers up to 48 hours with minute buckets: rollups before the watermark, raw samples after it', async () => {
      await startWithHistory();
      const from = t0 - 6 * HOUR_MS + 15 * SECOND;
      const body = (await points(cpu, range(from, t0))).json();
      expect(body).toMatchObject({ resolution: 'minute', step_seconds: 60 });
      expect(body.points).toHaveLength(361);
      expect(body.points).toEqual(expectedBuckets(samples, MINUTE_MS, from, t0));
    });

    it('answers longer ranges with hour buckets, merging hour rollups, minute rollups and raw samples', async () => {
      await startWithHistory();
      const body = (await points(cpu, range(t0 - 3 * DAY_MS, t0))).json();
      expect(body).toMatchObject({ resolution: 'hour', step_seconds: 3600 });
      expect(body.points).toHaveLength(73);
      expect(body.points).toEqual(expectedBuckets(samples, HOUR_MS, t0 - 3 * DAY_MS, t0));
    });

    it('step forces the resolution and re-buckets: 5m, 1d (UTC days), raw', async () => {
      await startWithHistory();
      const fiveMinutes = (await points(cpu, `${range(t0 - 6 * HOUR_MS, t0)}&step=5m`)).json();
      expect(fiveMinutes).toMatchObject({ resolution: 'minute', step_seconds: 300 });
      expect(fiveMinutes.points).toEqual(expectedBuckets(samples, 5 * MINUTE_MS, t0 - 6 * HOUR_MS, t0));

      const days = (await points(cpu, `${range(t0 - 3 * DAY_MS, t0)}&step=1d`)).json();
      expect(days).toMatchObject({ resolution: 'hour', step_seconds: 86_400 });
      expect(days.points.map((p: { t: string }) => p.t)).toEqual(['2026-11-18T00:00:00.000Z', '2026-11-19T00:00:00.000Z', '2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z']);
      expect(days.points).toEqual(expectedBuckets(samples, DAY_MS, t0 - 3 * DAY_MS, t0));

      const raw = (await points(cpu, `${range(t0 - 6 * HOUR_MS, t0)}&step=raw`)).json();
      expect(raw).toMatchObject({ resolution: 'raw', step_seconds: null });
      expect(raw.points).toEqual(rawBetween(t0 - 6 * HOUR_MS, t0));
    });

    it('refuses a forced resolution past 10,000 points instead of cutting the answer', async () => {
      await startWithHistory();
      const tooRaw = await points(cpu, `${range(t0 - 3 * DAY_MS, t0)}&step=raw`);
      expect(tooRaw.statusCode).toBe(422);
      expect(tooRaw.json().detail[0].loc).toEqual(['query', 'step']);
      expect(tooRaw.json().detail[0].msg).toContain('more than 10000 raw samples');
      const tooManyBuckets = await points(cpu, `${range(t0 - 10 * DAY_MS, t0)}&step=1m`);
      expect(tooManyBuckets.statusCode).toBe(422);
      expect(tooManyBuckets.json().detail[0]).toMatchObject({ loc: ['query', 'step'] });
      expect(tooManyBuckets.json().detail[0].msg).toContain('14401 buckets');
    });

    it('without a step, steps up from raw samples to minutes when the range holds too many samples or they were pruned', async () => {
      await startWithHistory();
      // A dense series: a sample every 0.5 s for 90 minutes (10,800 samples).
      const dense = await insertSeries(db(), { tenantId, machineId: cpu.machineId, name: 'requests', now: t0 });
      const denseSamples = Array.from({ length: 10_800 }, (_, i) => ({ at: t0 - 90 * MINUTE_MS + i * 500, value: i % 16 }));
      await insertSamples(db(), dense, denseSamples);
      const body = (await points(dense, range(t0 - 90 * MINUTE_MS, t0))).json();
      expect(body).toMatchObject({ resolution: 'minute', step_seconds: 60 });
      expect(body.points).toEqual(expectedBuckets(denseSamples, MINUTE_MS, t0 - 90 * MINUTE_MS, t0));

      // Retention deleted raw samples before 30 minutes ago: the last hour comes from minutes.
      await writeStoreMark(db(), 'rawPrunedBefore', t0 - 30 * MINUTE_MS);
      expect((await points(cpu)).json()).toMatchObject({ resolution: 'minute', step_seconds: 60 });
      expect((await points(cpu, range(t0 - 20 * MINUTE_MS, t0))).json()).toMatchObject({ resolution: 'raw' });
    });
  });

  describe('bool and string series', () => {
    it('answer the value in force at `from` and the changes within the range, typed', async () => {
      await start();
      const { series } = await seedSeries();
      const body = (await points(series.nginx, range(t0 - 4 * HOUR_MS, t0 - HOUR_MS))).json();
      expect(body).toMatchObject({ resolution: 'changes', step_seconds: null });
      expect(body.initial).toEqual({ t: iso(t0 - 5 * HOUR_MS), value: true });
      expect(body.points).toEqual([
        { t: iso(t0 - 3 * HOUR_MS), value: false },
        { t: iso(t0 - 2 * HOUR_MS), value: true },
      ]);
      // A change exactly at `from` is the value in force, not a change within the range.
      const atFrom = (await points(series.nginx, `${range(t0 - 3 * HOUR_MS, t0)}&step=5m`)).json();
      expect(atFrom.initial).toEqual({ t: iso(t0 - 3 * HOUR_MS), value: false });
      expect(atFrom.points).toEqual([
        { t: iso(t0 - 2 * HOUR_MS), value: true },
        { t: iso(t0 - 30 * MINUTE_MS), value: false },
      ]);
      // Before the first change: nothing was in force.
      expect((await points(series.nginx, range(t0 - 10 * HOUR_MS, t0 - 6 * HOUR_MS))).json()).toMatchObject({ initial: null, points: [] });

      const version = (await points(series.version)).json();
      expect(version.initial).toEqual({ t: iso(t0 - 2 * DAY_MS), value: '1.0.0' });
      expect(version.points).toEqual([{ t: iso(t0 - 20 * MINUTE_MS), value: 'release "2",\r\nhotfix' }]);
    });
  });

  describe('export', () => {
    it('gives the points of one series as csv, jsonl and json files holding the same data as the JSON answer', async () => {
      await start();
      const { series } = await seedSeries();
      await insertSamples(
        db(),
        series.cpu,
        Array.from({ length: 50 }, (_, i) => ({ at: t0 - HOUR_MS + i * MINUTE_MS, value: i / 4 })),
      );
      const answer = (await points(series.cpu)).json();
      expect(answer.points.length).toBe(51);

      const csv = await points(series.cpu, 'format=csv');
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
      expect(csv.headers['content-disposition']).toBe(`attachment; filename="series-${series.cpu.id}_20261121T110000Z_20261121T120000Z.csv"`);
      const rows = csvObjects(csv.body);
      expect(rows.map((r) => ({ t: r.t, value: Number(r.value) }))).toEqual(answer.points);
      for (const row of rows) {
        expect(row).toMatchObject({
          series_id: String(series.cpu.id),
          machine_id: series.cpu.machineId,
          hostname: 'web-01',
          name: 'cpu_load',
          labels: '{}',
          type: 'numeric',
          unit: 'ratio',
          resolution: 'raw',
          step_seconds: '',
          min: '',
          last: '',
        });
      }

      const jsonl = await points(series.cpu, 'format=jsonl');
      expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(jsonl.headers['content-disposition']).toMatch(/filename="series-\d+_20261121T110000Z_20261121T120000Z\.jsonl"$/);
      expect(jsonl.body.endsWith('\n')).toBe(true);
      const lines = jsonl.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((l) => ({ t: l.t, value: l.value }))).toEqual(answer.points);
      expect(Object.keys(lines[0])).toEqual([...EXPORT_COLUMNS]);
      // The CSV holds exactly the JSONL's values.
      expect(rows).toEqual(lines.map((l) => Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, csvText(l[c])]))));

      const json = await points(series.cpu, 'format=json');
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(json.headers['content-disposition']).toMatch(/\.json"$/);
      expect(json.json()).toEqual(answer);
      // Without `format`: the API answer, not a download.
      expect((await points(series.cpu)).headers['content-disposition']).toBeUndefined();
    });

    it('exports buckets and changes: rollup columns, the value in force first, RFC 4180 quoting of a value with quotes, comma and CRLF', async () => {
      await start();
      const { series } = await seedSeries();
      const minutes = await points(series.diskRoot, `${range(t0 - 6 * HOUR_MS, t0)}&format=csv`);
      const [bucket] = csvObjects(minutes.body);
      expect(bucket).toMatchObject({
        resolution: 'minute',
        step_seconds: '60',
        t: iso(t0 - MINUTE_MS),
        value: '',
        min: '1000',
        max: '1000',
        avg: '1000',
        count: '1',
        last: '1000',
        labels: '{"fs":"ext4","mount":"/"}',
      });

      const csv = await points(series.version, 'format=csv');
      expect(csv.body).toContain('"release ""2"",\r\nhotfix"');
      expect(csvObjects(csv.body).map((r) => [r.resolution, r.t, r.value])).toEqual([
        ['changes', iso(t0 - 2 * DAY_MS), '1.0.0'],
        ['changes', iso(t0 - 20 * MINUTE_MS), 'release "2",\r\nhotfix'],
      ]);
      const flags = (await points(series.nginx, `${range(t0 - 4 * HOUR_MS, t0)}&format=jsonl`)).body
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(flags.map((f) => [f.t, f.value])).toEqual([
        [iso(t0 - 5 * HOUR_MS), true],
        [iso(t0 - 3 * HOUR_MS), false],
        [iso(t0 - 2 * HOUR_MS), true],
        [iso(t0 - 30 * MINUTE_MS), false],
      ]);
    });

    it('exports several series in one streamed file, each as its own points export would give it', async () => {
      await start();
      const { series } = await seedSeries();
      const window = range(t0 - 6 * HOUR_MS, t0);
      const web = [series.cpu, series.diskRoot, series.diskVar, series.nginx, series.version];

      const csv = await get(`/api/v1/series/export?machine=web-01&${window}&format=csv`);
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
      expect(csv.headers['content-disposition']).toBe('attachment; filename="series_20261121T060000Z_20261121T120000Z.csv"');
      expect(csv.headers['x-vigie-series-count']).toBe('5');
      const one = async (s: FixtureSeries, format: string) => (await points(s, `${window}&format=${format}`)).body;
      const singles = await Promise.all(web.map((s) => one(s, 'csv')));
      expect(csvObjects(csv.body)).toEqual(singles.flatMap((body) => csvObjects(body)));

      const jsonl = await get(`/api/v1/series/export?machine=web-01&${window}&format=jsonl`);
      expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(jsonl.body).toBe((await Promise.all(web.map((s) => one(s, 'jsonl')))).join(''));

      const json = await get(`/api/v1/series/export?name=disk_used&label=fs=xfs&${window}`);
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(json.json()).toEqual([(await points(series.diskVar, window)).json()]);
    });

    it('refuses an export of more than 1,000 series before writing anything', async () => {
      await start();
      const machineId = await insertMachine(db(), { tenantId, hostname: 'big-01', now: t0 });
      await db()
        .insertInto('series')
        .values(
          Array.from({ length: 1_001 }, (_, i) => ({
            tenant_id: tenantId,
            machine_id: machineId,
            name: 'probe',
            labels: JSON.stringify({ n: String(i) }),
            type: 'numeric',
            unit: null,
            created_at: t0,
          })),
        )
        .execute();
      const response = await get('/api/v1/series/export?name=probe&format=csv');
      expect(response.statusCode).toBe(422);
      expect(response.json().detail).toEqual([{ loc: ['query'], msg: 'more than 1000 series match: narrow the export with machine, name or label', type: 'value_error' }]);
      expect((await get('/api/v1/series/export?name=probe&label=n=7&format=csv')).statusCode).toBe(200);
    });
  });

  describe('validation', () => {
    it('refuses bad times, a range that ends before it starts, an unknown format and a bad step, naming the parameter', async () => {
      await start();
      const { series } = await seedSeries();
      const problem = async (query: string, url = `/api/v1/series/${series.cpu.id}/points`) => {
        const response = await get(`${url}?${query}`);
        expect(response.statusCode, `${query}: ${response.body}`).toBe(422);
        return response.json().detail[0] as { loc: unknown[]; msg: string };
      };
      expect((await problem('from=yesterday')).loc).toEqual(['query', 'from']);
      expect((await problem('to=2026-11-21')).loc).toEqual(['query', 'to']);
      const reversed = await problem(range(t0, t0 - HOUR_MS));
      expect(reversed).toMatchObject({ loc: ['query', 'from'], msg: 'from (2026-11-21T12:00:00.000Z) must not be after to (2026-11-21T11:00:00.000Z)' });
      expect((await problem('format=xml')).loc).toEqual(['query', 'format']);
      for (const step of ['5x', '30s', '0m', '90s', '500d', 'fast']) expect((await problem(`step=${step}`)).loc, step).toEqual(['query', 'step']);
      expect((await problem('format=xml', '/api/v1/series/export')).loc).toEqual(['query', 'format']);
      expect((await problem(range(t0, t0 - 1), '/api/v1/series/export')).loc).toEqual(['query', 'from']);
      // Parameters are checked before the series is looked up: the same 422 for any id.
      expect((await problem('step=5x', '/api/v1/series/999999/points')).loc).toEqual(['query', 'step']);
    });

    it("answers 404 alike for an unknown id, an id that is not a number and another tenant's series", async () => {
      await start();
      const { series } = await seedSeries();
      const other = await createTenantWithKey(ctx, 'full');
      const answers = await Promise.all([
        points(999_999),
        points('not-a-number'),
        get(`/api/v1/series/${series.cpu.id}/points`, { 'x-api-key': other.apiKey }),
        get(`/api/v1/series/${series.cpu.id}/points?format=csv`, { 'x-api-key': other.apiKey }),
        get(`/api/v1/series/${series.cpu.id}`, { 'x-api-key': other.apiKey }),
      ]);
      for (const answer of answers) expect([answer.statusCode, answer.json()]).toEqual([404, { detail: 'Series not found' }]);
      // And another tenant's export holds none of them.
      const theirs = await get('/api/v1/series/export?format=jsonl', { 'x-api-key': other.apiKey });
      expect([theirs.statusCode, theirs.body]).toEqual([200, '']);
    });
  });
});
