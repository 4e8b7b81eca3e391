/**
 * Threshold rules (issue 6) on every dialect: the /api/v1/metric-rules CRUD and each of its
 * validation errors; evaluation with the manual clock over series written straight into the
 * tables (test/helpers/rule-fixtures.ts, not the ingestion code): each aggregation, levels and
 * recovery, results only on change, `for` (before, after, reset, escalation), no data, bool and
 * string rules, a tag over two machines (worst wins), labels, the on-sample path (coalesced) and
 * a breach that reaches a webhook.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_REFRESH_MS } from '../src/metrics/rules/evaluator.js';
import type { WebhookBody } from '../src/notify/providers/webhook.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { StandIn } from './helpers/receivers.js';
import { ruleFixtures } from './helpers/rule-fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEC = 1000;
const MIN = 60 * SEC;
type Json = any;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());

describe.each(TEST_DIALECTS)('metric rules on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    standIn.reset();
    await ctx?.services.ruleEvaluator.flush();
    await ctx?.close();
    ctx = undefined;
  });

  async function start() {
    const c = (ctx = await createTestApp(dialect));
    const tenant = await createTenantWithKey(c, 'full', 'Acme');
    const headers = { 'x-api-key': tenant.apiKey };
    const call = (method: Method, url: string, payload?: object, h = headers) => c.app.inject({ method, url, headers: h, ...(payload !== undefined && { payload }) });
    const json = async (method: Method, url: string, payload?: object, status = 200): Promise<Json> => {
      const response = await call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
      return response.statusCode === 204 ? null : response.json();
    };
    /** The `loc`s of a 422, sorted. */
    const refused = async (method: Method, url: string, payload: object): Promise<string[]> => {
      const response = await call(method, url, payload);
      expect(response.statusCode, `${method} ${url} ${JSON.stringify(payload)}: ${response.body}`).toBe(422);
      return (response.json().detail as { loc: (string | number)[] }[]).map((p) => p.loc.join('.')).sort();
    };
    const fx = ruleFixtures(c);
    const t = {
      c,
      tenant,
      call,
      json,
      refused,
      fx,
      rule: async (body: object): Promise<string> => (await json('POST', '/api/v1/metric-rules', body, 201)).id,
      get: (id: string): Promise<Json> => json('GET', `/api/v1/metric-rules/${id}`),
      results: async (id: string): Promise<Json[]> => json('GET', `/api/v1/monitors/${id}/results`),
      evaluate: () => c.services.ruleEvaluator.runOnce(),
      /** Moves the clock, stores one sample of `s` now, and evaluates every rule. */
      step: async (s: Awaited<ReturnType<typeof fx.series>>, advanceMs: number, value: number) => {
        c.clock.advance(advanceMs);
        await fx.samples(s, [[0, value]]);
        await c.services.ruleEvaluator.runOnce();
      },
    };
    return t;
  }

  describe('CRUD', () => {
    /** A tenant with a machine (web-01, tagged web) and four rules: numeric, bool, string differs, string changed. */
    async function fourRules() {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01', ['web']);
      const cpu = await t.json('POST', '/api/v1/metric-rules', { metric: 'cpu_percent', warning_threshold: 70, critical_threshold: 90 }, 201);
      const nginx = await t.json('POST', '/api/v1/metric-rules', { name: 'nginx up', metric: 'service_nginx_ok', type: 'bool', machine_id: web01, for_seconds: 120, tags: ['web'] }, 201);
      const version = await t.json(
        'POST',
        '/api/v1/metric-rules',
        { name: 'agent version', metric: 'version', type: 'string', condition: 'differs', expected: '1.0.0', level: 'warning', machine_tag: 'web', labels: { channel: 'stable' } },
        201,
      );
      const changed = await t.json('POST', '/api/v1/metric-rules', { metric: 'version', type: 'string', condition: 'changed' }, 201);
      return { t, web01, cpu, nginx, version, changed };
    }

    it('creates a numeric rule with the defaults, as a monitor of kind metric, and reads it back', async () => {
      const { t, cpu } = await fourRules();
      expect(cpu).toEqual({
        id: expect.stringMatching(UUID),
        name: 'cpu_percent',
        metric: 'cpu_percent',
        machine_id: null,
        machine_tag: null,
        labels: {},
        type: 'numeric',
        aggregation: 'last',
        window_seconds: 300,
        comparison: '>',
        warning_threshold: 70,
        critical_threshold: 90,
        alert_when: null,
        condition: null,
        expected: null,
        level: null,
        for_seconds: 0,
        tags: [],
        is_active: true,
        channel_ids: null,
        state: 'pending',
        evaluation: { evaluated_at: null, level: null, value: null, message: null, warning_since: null, critical_since: null },
        created_at: new Date(t.c.clock.now()).toISOString(),
        updated_at: new Date(t.c.clock.now()).toISOString(),
      });
      expect(await t.json('GET', `/api/v1/monitors/${cpu.id}`)).toMatchObject({
        kind: 'metric',
        name: 'cpu_percent',
        failure_threshold: 1,
        recovery_threshold: 1,
        interval_seconds: null,
        next_due_at: null,
      });
      expect(await t.get(cpu.id)).toEqual(cpu);
    });

    it('creates bool and string rules with their own defaults', async () => {
      const { web01, nginx, version, changed } = await fourRules();
      expect(nginx).toMatchObject({
        type: 'bool',
        machine_id: web01,
        alert_when: false,
        level: 'critical',
        for_seconds: 120,
        aggregation: null,
        window_seconds: null,
        comparison: null,
        tags: ['web'],
      });
      expect(version).toMatchObject({ type: 'string', condition: 'differs', expected: '1.0.0', level: 'warning', machine_tag: 'web', labels: { channel: 'stable' }, window_seconds: null });
      expect(changed).toMatchObject({ condition: 'changed', window_seconds: 300, expected: null, level: 'critical' });
    });

    it('lists by name, paginated, and filters by metric and by tag', async () => {
      const { t, nginx, version, changed } = await fourRules();
      const page1 = await t.json('GET', '/api/v1/metric-rules?limit=2');
      expect(page1).toMatchObject({ total: 4, limit: 2, offset: 0 });
      expect(page1.items.map((r: Json) => r.name)).toEqual(['agent version', 'cpu_percent']);
      const page2 = await t.json('GET', '/api/v1/metric-rules?limit=2&offset=2');
      expect(page2.items.map((r: Json) => r.name)).toEqual(['nginx up', 'version']);
      expect(page2.items[0]).toEqual(await t.get(nginx.id));
      expect((await t.json('GET', '/api/v1/metric-rules?metric=version')).items.map((r: Json) => r.id).sort()).toEqual([version.id, changed.id].sort());
      expect((await t.json('GET', '/api/v1/metric-rules?tag=web')).items.map((r: Json) => r.id)).toEqual([nginx.id]);
    });

    it('PATCH changes only what is given; a new type or condition drops what no longer applies', async () => {
      const { t, cpu, version } = await fourRules();
      t.c.clock.advance(MIN);
      const patched = await t.json('PATCH', `/api/v1/metric-rules/${cpu.id}`, { critical_threshold: 95, aggregation: 'avg', name: 'CPU' });
      expect(patched).toMatchObject({ name: 'CPU', critical_threshold: 95, warning_threshold: 70, aggregation: 'avg', window_seconds: 300, comparison: '>' });
      expect(patched.updated_at).toBe(new Date(t.c.clock.now()).toISOString());
      // A new type keeps the selector and drops the old type's condition.
      const asBool = await t.json('PATCH', `/api/v1/metric-rules/${cpu.id}`, { type: 'bool', metric: 'cpu_ok' });
      expect(asBool).toMatchObject({
        type: 'bool',
        metric: 'cpu_ok',
        aggregation: null,
        window_seconds: null,
        comparison: null,
        warning_threshold: null,
        critical_threshold: null,
        alert_when: false,
        level: 'critical',
      });
      // differs → changed: the expected text is dropped, a window appears.
      expect(await t.json('PATCH', `/api/v1/metric-rules/${version.id}`, { condition: 'changed' })).toMatchObject({ condition: 'changed', expected: null, window_seconds: 300, level: 'warning' });
    });

    it('pause and resume go through the monitor core; channels as for every monitor', async () => {
      const { t, nginx } = await fourRules();
      expect(await t.json('PATCH', `/api/v1/metric-rules/${nginx.id}`, { is_active: false })).toMatchObject({ is_active: false, state: 'paused' });
      expect(await t.json('PATCH', `/api/v1/metric-rules/${nginx.id}`, { is_active: true })).toMatchObject({ is_active: true, state: 'pending' });
      const channel = (await t.json('POST', '/api/v1/channels', { name: 'hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } }, 201)).id;
      expect(await t.json('PATCH', `/api/v1/metric-rules/${nginx.id}`, { channel_ids: [channel] })).toMatchObject({ channel_ids: [channel] });
      expect(await t.json('POST', '/api/v1/metric-rules', { metric: 'load', critical_threshold: 4, channel_ids: [] }, 201)).toMatchObject({ channel_ids: [] });
    });

    it('DELETE removes the rule and its monitor; ids of other monitors are not rules', async () => {
      const { t, web01, cpu } = await fourRules();
      await t.json('DELETE', `/api/v1/metric-rules/${cpu.id}`, undefined, 204);
      expect((await t.call('GET', `/api/v1/metric-rules/${cpu.id}`)).statusCode).toBe(404);
      expect((await t.call('GET', `/api/v1/monitors/${cpu.id}`)).statusCode).toBe(404);
      expect((await t.call('DELETE', `/api/v1/metric-rules/${cpu.id}`)).statusCode).toBe(404);
      expect((await t.call('GET', `/api/v1/metric-rules/${web01}`)).json()).toEqual({ detail: 'Metric rule not found' });
      expect((await t.call('DELETE', `/api/v1/metric-rules/${web01}`)).statusCode).toBe(404);
      expect((await t.call('PATCH', `/api/v1/metric-rules/${randomUUID()}`, { name: 'x' })).statusCode).toBe(404);
    });

    const base = { metric: 'cpu_percent', warning_threshold: 70, critical_threshold: 90 };

    /** A tenant with a machine of its own (web-01), and another tenant's machine. */
    async function withMachines() {
      const t = await start();
      const other = await createTenantWithKey(t.c, 'full', 'Other');
      const theirs = await t.fx.machine(other.tenantId, 'their-host');
      const mine = await t.fx.machine(t.tenant.tenantId, 'web-01');
      return { t, theirs, mine };
    }

    it('POST refuses every invalid field with a 422 whose loc names it, and stores nothing', async () => {
      const { t, theirs, mine } = await withMachines();
      const cases: [object, string[]][] = [
        [{ warning_threshold: 70 }, ['body.metric']],
        [{ ...base, metric: '   ' }, ['body.metric']],
        [{ ...base, name: '' }, ['body.name']],
        [{ ...base, aggregation: 'median' }, ['body.aggregation']],
        [{ ...base, comparison: '=>' }, ['body.comparison']],
        [{ ...base, type: 'float' }, ['body.type']],
        [{ ...base, colour: 'red' }, ['body.colour']],
        [{ metric: 'cpu_percent' }, ['body.critical_threshold', 'body.warning_threshold']],
        [{ ...base, warning_threshold: null, critical_threshold: null }, ['body.critical_threshold', 'body.warning_threshold']],
        [{ ...base, warning_threshold: 'seventy' }, ['body.warning_threshold']],
        // thresholds in the wrong order for the comparison
        [{ ...base, warning_threshold: 90, critical_threshold: 70 }, ['body.critical_threshold']],
        [{ ...base, comparison: '>=', warning_threshold: 90, critical_threshold: 70 }, ['body.critical_threshold']],
        [{ ...base, comparison: '<', warning_threshold: 10, critical_threshold: 20 }, ['body.critical_threshold']],
        [{ ...base, comparison: '<=', warning_threshold: 10, critical_threshold: 20 }, ['body.critical_threshold']],
        [{ ...base, comparison: '==', warning_threshold: 1, critical_threshold: 1 }, ['body.critical_threshold']],
        [{ ...base, comparison: '!=', warning_threshold: 1, critical_threshold: 2 }, ['body.critical_threshold']],
        // window and for bounds
        [{ ...base, window_seconds: 9 }, ['body.window_seconds']],
        [{ ...base, window_seconds: 86_401 }, ['body.window_seconds']],
        [{ ...base, window_seconds: 60.5 }, ['body.window_seconds']],
        [{ ...base, for_seconds: -1 }, ['body.for_seconds']],
        [{ ...base, for_seconds: 86_401 }, ['body.for_seconds']],
        // fields of another value type
        [{ metric: 'ok', type: 'bool', comparison: '>' }, ['body.comparison']],
        [{ metric: 'ok', type: 'bool', aggregation: 'avg', warning_threshold: 1, window_seconds: 60 }, ['body.aggregation', 'body.warning_threshold', 'body.window_seconds']],
        [{ metric: 'ok', type: 'bool', condition: 'changed', expected: 'x' }, ['body.condition', 'body.expected']],
        [{ ...base, alert_when: true, level: 'warning' }, ['body.alert_when', 'body.level']],
        [{ ...base, condition: 'differs', expected: 'x' }, ['body.condition', 'body.expected']],
        [{ metric: 'v', type: 'string' }, ['body.condition']],
        [{ metric: 'v', type: 'string', condition: 'differs' }, ['body.expected']],
        [{ metric: 'v', type: 'string', condition: 'changed', expected: '1.0' }, ['body.expected']],
        [{ metric: 'v', type: 'string', condition: 'differs', expected: '1.0', window_seconds: 60 }, ['body.window_seconds']],
        [{ metric: 'v', type: 'string', condition: 'changed', critical_threshold: 1, alert_when: false }, ['body.alert_when', 'body.critical_threshold']],
        [{ metric: 'v', type: 'string', condition: 'changed', level: 'fatal' }, ['body.level']],
        // selector
        [{ ...base, machine_id: randomUUID() }, ['body.machine_id']],
        [{ ...base, machine_id: theirs }, ['body.machine_id']],
        [{ ...base, machine_id: 'web-01' }, ['body.machine_id']],
        [{ ...base, machine_id: mine, machine_tag: 'web' }, ['body.machine_tag']],
        [{ ...base, machine_tag: 'x'.repeat(101) }, ['body.machine_tag']],
        [{ ...base, machine_tag: '' }, ['body.machine_tag']],
        [{ ...base, alert_when: false, warning_threshold: 0 }, ['body.alert_when']],
        [{ metric: 'v', type: 'string', condition: 'differs', expected: 'x'.repeat(1001) }, ['body.expected']],
        [{ ...base, labels: ['core', '0'] }, ['body.labels']],
        [{ ...base, labels: { core: { nested: 'x' } } }, ['body.labels.core']],
        [{ ...base, labels: { ' ': 'x' } }, ['body.labels. ']],
        [{ ...base, labels: { core: 'x'.repeat(501) } }, ['body.labels.core']],
        [{ ...base, labels: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`l${i}`, 'v'])) }, ['body.labels']],
        [{ ...base, tags: [''] }, ['body.tags.0']],
        [{ ...base, channel_ids: [randomUUID()] }, ['body.channel_ids.0']],
        // several at once: each named (the shape first, then, once the shape is right, the meaning)
        [{ metric: 'cpu', aggregation: 'p99', warning_threshold: 90, critical_threshold: 70, for_seconds: -5, machine_id: randomUUID() }, ['body.aggregation', 'body.for_seconds']],
        [{ metric: 'cpu', warning_threshold: 90, critical_threshold: 70, for_seconds: 5, machine_id: randomUUID() }, ['body.critical_threshold', 'body.machine_id']],
      ];
      for (const [body, locs] of cases) expect(await t.refused('POST', '/api/v1/metric-rules', body), JSON.stringify(body)).toEqual(locs);
      expect((await t.json('GET', '/api/v1/metric-rules')).total).toBe(0);
    });

    it('PATCH is checked against the merged rule: a refused patch changes nothing, the same fields fixed together are accepted', async () => {
      const { t, theirs, mine } = await withMachines();
      const id = await t.rule({ ...base, machine_id: mine });
      const before = await t.get(id);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, {})).toEqual(['body']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { warning_threshold: 95 })).toEqual(['body.critical_threshold']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { comparison: '<' })).toEqual(['body.critical_threshold']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { machine_tag: 'web' })).toEqual(['body.machine_tag']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { critical_threshold: null, warning_threshold: null })).toEqual(['body.critical_threshold', 'body.warning_threshold']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { type: 'bool', comparison: '<' })).toEqual(['body.comparison']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { type: 'string' })).toEqual(['body.condition']);
      expect(await t.refused('PATCH', `/api/v1/metric-rules/${id}`, { machine_id: theirs })).toEqual(['body.machine_id']);
      expect(await t.get(id)).toEqual(before);
      // and the same fields fixed together are accepted
      expect(await t.json('PATCH', `/api/v1/metric-rules/${id}`, { comparison: '<', warning_threshold: 20, critical_threshold: 10, machine_id: null, machine_tag: 'web' })).toMatchObject({
        comparison: '<',
        warning_threshold: 20,
        critical_threshold: 10,
        machine_id: null,
        machine_tag: 'web',
      });
    });

    it('zero, false and the empty text are values, not "none"', async () => {
      const t = await start();
      expect(await t.json('POST', '/api/v1/metric-rules', { metric: 'free_gb', comparison: '<=', warning_threshold: 5, critical_threshold: 0 }, 201)).toMatchObject({
        warning_threshold: 5,
        critical_threshold: 0,
      });
      expect(await t.json('POST', '/api/v1/metric-rules', { metric: 'ok', type: 'bool', alert_when: false }, 201)).toMatchObject({ alert_when: false });
      expect(await t.json('POST', '/api/v1/metric-rules', { metric: 'motd', type: 'string', condition: 'differs', expected: '' }, 201)).toMatchObject({ expected: '' });
    });

    it('needs write access to change rules and read access to list them', async () => {
      const t = await start();
      const reader = await t.c.services.apiKeys.create(t.tenant.tenantId, { name: 'reader', scope: 'read-only' });
      const asReader = { 'x-api-key': reader.secret };
      const id = await t.rule({ metric: 'cpu_percent', critical_threshold: 90 });
      expect((await t.call('GET', '/api/v1/metric-rules', undefined, asReader)).statusCode).toBe(200);
      expect((await t.call('GET', `/api/v1/metric-rules/${id}`, undefined, asReader)).statusCode).toBe(200);
      expect((await t.call('POST', '/api/v1/metric-rules', { metric: 'x', critical_threshold: 1 }, asReader)).statusCode).toBe(403);
      expect((await t.call('PATCH', `/api/v1/metric-rules/${id}`, { critical_threshold: 1 }, asReader)).statusCode).toBe(403);
      expect((await t.call('DELETE', `/api/v1/metric-rules/${id}`, undefined, asReader)).statusCode).toBe(403);
      expect((await t.call('GET', '/api/v1/metric-rules', undefined, {} as typeof asReader)).statusCode).toBe(401);
    });
  });

  describe('evaluation', () => {
    it('aggregates the raw samples within the window: last, avg, min, max', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      // 99 is outside the 5-minute window: it must count for none of them.
      await t.fx.samples(cpu, [
        [400 * SEC, 99],
        [240 * SEC, 50],
        [180 * SEC, 80],
        [120 * SEC, 60],
        [60 * SEC, 70],
      ]);
      const thresholds = { metric: 'cpu_percent', warning_threshold: 60, critical_threshold: 75, window_seconds: 300 };
      const ids = {
        last: await t.rule({ ...thresholds, aggregation: 'last' }),
        avg: await t.rule({ ...thresholds, aggregation: 'avg' }),
        min: await t.rule({ ...thresholds, aggregation: 'min' }),
        max: await t.rule({ ...thresholds, aggregation: 'max' }),
        minBelow: await t.rule({ metric: 'cpu_percent', aggregation: 'min', comparison: '<', warning_threshold: 60, critical_threshold: 55, window_seconds: 300 }),
        short: await t.rule({ ...thresholds, aggregation: 'max', window_seconds: 150 }),
      };
      expect(await t.evaluate()).toBe(6);

      const seen = async (id: string) => {
        const rule = await t.get(id);
        return [rule.state, rule.evaluation.level, rule.evaluation.value, rule.evaluation.message];
      };
      expect(await seen(ids.last)).toEqual(['warning', 'warning', 70, 'cpu_percent on web-01 = 70 > 60 (warning)']);
      expect(await seen(ids.avg)).toEqual(['warning', 'warning', 65, 'avg(cpu_percent) over 5m on web-01 = 65 > 60 (warning)']);
      expect(await seen(ids.min)).toEqual(['up', 'ok', 50, 'min(cpu_percent) over 5m on web-01 = 50, within thresholds (warning > 60, critical > 75)']);
      expect(await seen(ids.max)).toEqual(['down', 'critical', 80, 'max(cpu_percent) over 5m on web-01 = 80 > 75 (critical)']);
      expect(await seen(ids.minBelow)).toEqual(['down', 'critical', 50, 'min(cpu_percent) over 5m on web-01 = 50 < 55 (critical)']);
      expect(await seen(ids.short)).toEqual(['warning', 'warning', 70, 'max(cpu_percent) over 2m30s on web-01 = 70 > 60 (warning)']);

      // The verdicts are results of the monitor core, with the value.
      expect(await t.results(ids.max)).toEqual([
        { at: new Date(t.c.clock.now()).toISOString(), status: 'down', latency_ms: null, value: 80, message: 'max(cpu_percent) over 5m on web-01 = 80 > 75 (critical)', source: 'evaluation' },
      ]);
      expect((await t.results(ids.last))[0]).toMatchObject({ status: 'warning', value: 70 });
      expect((await t.results(ids.min))[0]).toMatchObject({ status: 'up', value: 50 });
    });

    it('moves between levels and back, and records a result only when the outcome changes or has not been recorded for a while', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      const id = await t.rule({ metric: 'cpu_percent', warning_threshold: 70, critical_threshold: 90 });
      const states: string[] = [];
      for (const value of [50, 55, 80, 85, 95, 92, 75, 40, 45]) {
        await t.step(cpu, 10 * SEC, value);
        states.push(`${value}:${(await t.get(id)).state}`);
      }
      expect(states).toEqual(['50:up', '55:up', '80:warning', '85:warning', '95:down', '92:down', '75:warning', '40:up', '45:up']);
      const results = await t.results(id);
      expect(results.map((r: Json) => `${r.status}:${r.value}`).reverse()).toEqual(['up:50', 'warning:80', 'down:95', 'warning:75', 'up:40']);

      const incidents: Json[] = await t.json('GET', `/api/v1/incidents?monitor=${id}`);
      expect(incidents).toHaveLength(1);
      // One incident from the first warning to the recovery, escalated to down and back to warning.
      expect(incidents[0]).toMatchObject({ state: 'resolved', severity: 'warning' });
      const flips: Json[] = await t.json('GET', `/api/v1/alerts/events?monitor=${id}`).then((page) => page.items);
      expect(flips.map((e) => `${e.from_state}>${e.to_state}:${e.severity}`).reverse()).toEqual(['up>warning:warning', 'warning>down:critical', 'down>warning:warning', 'warning>up:warning']);

      // A steady outcome is recorded again once RESULT_REFRESH_MS has passed, not before.
      const lastRecordedAt = Date.parse(results[0].at);
      t.c.clock.set(lastRecordedAt + RESULT_REFRESH_MS - SEC);
      await t.step(cpu, 0, 46);
      expect(await t.results(id)).toHaveLength(5);
      await t.step(cpu, SEC, 47);
      expect(await t.results(id)).toHaveLength(6);
      expect((await t.results(id))[0]).toMatchObject({ status: 'up', value: 47 });

      // The evaluation state is visible on the rule; a changed definition starts it afresh.
      const rule = await t.get(id);
      expect(rule.evaluation).toEqual({
        evaluated_at: new Date(t.c.clock.now()).toISOString(),
        level: 'ok',
        value: 47,
        message: expect.stringContaining('= 47'),
        warning_since: null,
        critical_since: null,
      });
      expect((await t.json('PATCH', `/api/v1/metric-rules/${id}`, { warning_threshold: 30 })).evaluation).toEqual({
        evaluated_at: null,
        level: null,
        value: null,
        message: null,
        warning_since: null,
        critical_since: null,
      });
      await t.evaluate();
      expect(await t.get(id)).toMatchObject({ state: 'warning', evaluation: { level: 'warning', value: 47 } });
    });

    it('`for`: a breach is reported once it has held that long, and its clock restarts when the value comes back', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      const id = await t.rule({ metric: 'cpu_percent', critical_threshold: 90, for_seconds: 300 });

      await t.step(cpu, 0, 93.2);
      const t0 = t.c.clock.now();
      let rule = await t.get(id);
      expect(rule).toMatchObject({ state: 'up', evaluation: { level: 'critical', critical_since: new Date(t0).toISOString() } });
      expect(rule.evaluation.message).toBe('cpu_percent on web-01 = 93.2 > 90 (critical); alerts once it has held 5m');
      await t.step(cpu, 4 * MIN, 95);
      expect((await t.get(id)).state).toBe('up');
      expect((await t.get(id)).evaluation.message).toBe('cpu_percent on web-01 = 95 > 90 (critical) for 4m; alerts once it has held 5m');
      await t.step(cpu, MIN - SEC, 94);
      expect((await t.get(id)).state).toBe('up');
      await t.step(cpu, SEC, 93.2);
      rule = await t.get(id);
      expect(rule.state).toBe('down');
      expect((await t.results(id))[0]).toMatchObject({ status: 'down', value: 93.2, message: 'cpu_percent on web-01 = 93.2 > 90 (critical) for 5m' });

      // Recovery is reported at once.
      await t.step(cpu, 10 * SEC, 50);
      expect((await t.get(id)).state).toBe('up');

      // A breach interrupted by one good value starts from zero.
      await t.step(cpu, 10 * SEC, 95);
      await t.step(cpu, 3 * MIN, 96);
      await t.step(cpu, 10 * SEC, 60);
      expect((await t.get(id)).evaluation.critical_since).toBeNull();
      await t.step(cpu, 10 * SEC, 97);
      await t.step(cpu, 3 * MIN, 98);
      expect((await t.get(id)).state).toBe('up'); // 6m20s since the first breach, but 3m of this one
      await t.step(cpu, 2 * MIN, 99);
      expect((await t.get(id)).state).toBe('down');
    });

    it('`for` with two levels: escalating keeps the warning reported and starts a clock of its own for critical', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      const id = await t.rule({ metric: 'cpu_percent', warning_threshold: 70, critical_threshold: 90, for_seconds: 300 });
      await t.step(cpu, 0, 80);
      expect((await t.get(id)).state).toBe('up');
      await t.step(cpu, 5 * MIN, 80);
      expect((await t.get(id)).state).toBe('warning');
      await t.step(cpu, MIN, 95);
      const rule = await t.get(id);
      expect(rule.state).toBe('warning');
      expect(rule.evaluation.message).toBe('cpu_percent on web-01 = 95 > 90 (critical); critical once it has held 5m');
      await t.step(cpu, 4 * MIN, 95);
      expect((await t.get(id)).state).toBe('warning');
      await t.step(cpu, MIN, 95);
      expect((await t.get(id)).state).toBe('down');
      // Back to the warning band: the warning clock never stopped, so warning at once.
      await t.step(cpu, 10 * SEC, 75);
      expect((await t.get(id)).state).toBe('warning');
      // Newest first; the second warning is the refresh of a warning unchanged for RESULT_REFRESH_MS.
      expect((await t.results(id)).map((r: Json) => r.status)).toEqual(['warning', 'down', 'warning', 'warning', 'up']);
    });

    it('no data in the window keeps the previous state and says so', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      const id = await t.rule({ metric: 'cpu_percent', critical_threshold: 90, window_seconds: 60 });
      const orphan = await t.rule({ metric: 'disk_percent', critical_threshold: 90 });
      await t.step(cpu, 0, 95);
      expect((await t.get(id)).state).toBe('down');
      t.c.clock.advance(2 * MIN);
      await t.evaluate();
      const rule = await t.get(id);
      expect(rule).toMatchObject({ state: 'down', evaluation: { level: 'no_data', value: null, message: 'no data for cpu_percent in the last 1m (1 series); keeping the previous state' } });
      expect(await t.results(id)).toHaveLength(1);
      expect(await t.get(orphan)).toMatchObject({ state: 'pending', evaluation: { level: 'no_data', message: 'no numeric series disk_percent matches this rule; keeping the previous state' } });
      expect(await t.results(orphan)).toHaveLength(0);
      // Data again: judged as usual.
      await t.step(cpu, 0, 20);
      expect((await t.get(id)).state).toBe('up');
    });

    it('bool rules alert on the value they name, at their level', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const nginx = await t.fx.series(t.tenant.tenantId, web01, 'service_nginx_ok', 'bool');
      const onFalse = await t.rule({ metric: 'service_nginx_ok', type: 'bool' });
      const onTrue = await t.rule({ metric: 'service_nginx_ok', type: 'bool', alert_when: true, level: 'warning' });
      await t.fx.value(nginx, true);
      await t.evaluate();
      expect(await t.get(onFalse)).toMatchObject({ state: 'up', evaluation: { level: 'ok', value: 1, message: 'service_nginx_ok on web-01 is true' } });
      expect(await t.get(onTrue)).toMatchObject({ state: 'warning', evaluation: { level: 'warning', value: 1, message: 'service_nginx_ok on web-01 is true (warning)' } });
      t.c.clock.advance(30 * SEC);
      await t.fx.value(nginx, false);
      await t.evaluate();
      expect(await t.get(onFalse)).toMatchObject({ state: 'down', evaluation: { level: 'critical', value: 0, message: 'service_nginx_ok on web-01 is false (critical)' } });
      expect(await t.get(onTrue)).toMatchObject({ state: 'up', evaluation: { level: 'ok', value: 0 } });
      expect((await t.results(onFalse))[0]).toMatchObject({ status: 'down', value: 0, message: 'service_nginx_ok on web-01 is false (critical)' });
    });

    it('string rules: changed alerts while a change is recent, differs while the value is not the expected one', async () => {
      const t = await start();
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const version = await t.fx.series(t.tenant.tenantId, web01, 'version', 'string');
      const changed = await t.rule({ metric: 'version', type: 'string', condition: 'changed', window_seconds: 600, level: 'warning' });
      const differs = await t.rule({ metric: 'version', type: 'string', condition: 'differs', expected: '1.0.0' });

      await t.fx.value(version, '1.0.0');
      await t.evaluate();
      // The first value a series ever has is not a change.
      expect(await t.get(changed)).toMatchObject({ state: 'up', evaluation: { level: 'ok', value: null, message: 'version on web-01 is "1.0.0", unchanged in the last 10m' } });
      expect(await t.get(differs)).toMatchObject({ state: 'up', evaluation: { level: 'ok', message: 'version on web-01 is "1.0.0" as expected' } });

      t.c.clock.advance(20 * MIN);
      await t.fx.value(version, '1.1.0');
      t.c.clock.advance(MIN);
      await t.evaluate();
      expect(await t.get(changed)).toMatchObject({ state: 'warning', evaluation: { level: 'warning', message: 'version on web-01 changed from "1.0.0" to "1.1.0" 1m ago (warning)' } });
      expect(await t.get(differs)).toMatchObject({ state: 'down', evaluation: { level: 'critical', message: 'version on web-01 is "1.1.0", expected "1.0.0" (critical)' } });
      expect((await t.results(differs))[0]).toMatchObject({ status: 'down', value: null });

      // Ten minutes after the change it is no longer news; the difference still is.
      t.c.clock.advance(9 * MIN);
      await t.evaluate();
      expect((await t.get(changed)).state).toBe('up');
      expect((await t.get(changed)).evaluation.message).toBe('version on web-01 is "1.1.0", unchanged in the last 10m');
      expect((await t.get(differs)).state).toBe('down');

      // Back to the expected value: differs recovers, and that is a change again.
      await t.fx.value(version, '1.0.0');
      await t.evaluate();
      expect((await t.get(differs)).state).toBe('up');
      expect(await t.get(changed)).toMatchObject({ state: 'warning', evaluation: { message: 'version on web-01 changed from "1.1.0" to "1.0.0" 0s ago (warning)' } });
    });

    it('a tag selects several machines and the worst series wins; labels select series', async () => {
      const t = await start();
      const tenantId = t.tenant.tenantId;
      const web01 = await t.fx.machine(tenantId, 'web-01', ['web']);
      const web02 = await t.fx.machine(tenantId, 'web-02', ['web', 'eu']);
      const db01 = await t.fx.machine(tenantId, 'db-01', ['db']);
      const s1 = await t.fx.series(tenantId, web01, 'cpu_percent');
      const s2 = await t.fx.series(tenantId, web02, 'cpu_percent');
      const s3 = await t.fx.series(tenantId, db01, 'cpu_percent');
      await t.fx.samples(s1, [[5 * SEC, 75]]);
      await t.fx.samples(s2, [[5 * SEC, 93.2]]);
      await t.fx.samples(s3, [[5 * SEC, 99]]); // not tagged web: must not count
      const web = await t.rule({ metric: 'cpu_percent', machine_tag: 'web', warning_threshold: 70, critical_threshold: 90 });
      const one = await t.rule({ metric: 'cpu_percent', machine_id: web01, warning_threshold: 70, critical_threshold: 90 });
      await t.evaluate();
      expect(await t.get(web)).toMatchObject({ state: 'down', evaluation: { level: 'critical', value: 93.2, message: 'cpu_percent on web-02 = 93.2 > 90 (critical), worst of 2 series' } });
      expect(await t.get(one)).toMatchObject({ state: 'warning', evaluation: { value: 75, message: 'cpu_percent on web-01 = 75 > 70 (warning)' } });

      await t.fx.samples(s2, [[0, 50]]);
      await t.evaluate();
      expect(await t.get(web)).toMatchObject({ state: 'warning', evaluation: { value: 75, message: 'cpu_percent on web-01 = 75 > 70 (warning), worst of 2 series' } });
      // Of two series at the same level, the one further past the threshold is named.
      await t.fx.samples(s2, [[-SEC, 80]]);
      t.c.clock.advance(SEC);
      await t.evaluate();
      expect((await t.get(web)).evaluation.message).toBe('cpu_percent on web-02 = 80 > 70 (warning) for 1s, worst of 2 series');

      // Labels: a subset of the series' labels.
      const core0 = await t.fx.series(tenantId, db01, 'core_percent', 'numeric', { core: '0', mode: 'user' });
      const core1 = await t.fx.series(tenantId, db01, 'core_percent', 'numeric', { core: '1', mode: 'user' });
      await t.fx.samples(core0, [[SEC, 99]]);
      await t.fx.samples(core1, [[SEC, 10]]);
      const onCore1 = await t.rule({ metric: 'core_percent', labels: { core: '1' }, critical_threshold: 90 });
      const onUser = await t.rule({ metric: 'core_percent', labels: { mode: 'user' }, critical_threshold: 90 });
      const onNothing = await t.rule({ metric: 'core_percent', labels: { core: '2' }, critical_threshold: 90 });
      await t.evaluate();
      expect(await t.get(onCore1)).toMatchObject({ state: 'up', evaluation: { value: 10 } });
      expect(await t.get(onUser)).toMatchObject({ state: 'down', evaluation: { value: 99, message: 'core_percent{core="0",mode="user"} on db-01 = 99 > 90 (critical), worst of 2 series' } });
      expect(await t.get(onNothing)).toMatchObject({ state: 'pending', evaluation: { level: 'no_data' } });
    });

    it('evaluates matching latest-value rules as soon as samples are stored, coalescing a burst, without waiting for the tick', async () => {
      const t = await start();
      const tenantId = t.tenant.tenantId;
      const web01 = await t.fx.machine(tenantId, 'web-01', ['web']);
      const web02 = await t.fx.machine(tenantId, 'web-02');
      const cpu1 = await t.fx.series(tenantId, web01, 'cpu_percent', 'numeric', { core: 'all' });
      const cpu2 = await t.fx.series(tenantId, web02, 'cpu_percent', 'numeric', { core: 'all' });
      const nginx = await t.fx.series(tenantId, web01, 'service_nginx_ok', 'bool');
      const last = await t.rule({ metric: 'cpu_percent', machine_id: web01, critical_threshold: 90 });
      const byTag = await t.rule({ metric: 'cpu_percent', machine_tag: 'web', labels: { core: 'all' }, critical_threshold: 90 });
      const bool = await t.rule({ metric: 'service_nginx_ok', type: 'bool' });
      // Not reacting to this ingest: a windowed aggregation, another machine, other labels, another metric.
      const avg = await t.rule({ metric: 'cpu_percent', aggregation: 'avg', critical_threshold: 90 });
      const otherMachine = await t.rule({ metric: 'cpu_percent', machine_id: web02, critical_threshold: 90 });
      const otherLabels = await t.rule({ metric: 'cpu_percent', labels: { core: '0' }, critical_threshold: 90 });
      const otherMetric = await t.rule({ metric: 'load', critical_threshold: 4 });

      await t.fx.samples(cpu1, [[0, 95]]);
      await t.fx.samples(cpu2, [[0, 10]]);
      await t.fx.value(nginx, false);
      for (let i = 0; i < 10; i++) t.fx.announce(cpu1, nginx); // ten ingests in one tick of the event loop
      await t.c.services.ruleEvaluator.flush();

      expect(await t.get(last)).toMatchObject({ state: 'down', evaluation: { value: 95, message: 'cpu_percent{core="all"} on web-01 = 95 > 90 (critical)' } });
      expect(await t.get(byTag)).toMatchObject({ state: 'down' });
      expect(await t.get(bool)).toMatchObject({ state: 'down', evaluation: { message: 'service_nginx_ok on web-01 is false (critical)' } });
      for (const id of [avg, otherMachine, otherLabels, otherMetric]) expect(await t.get(id), id).toMatchObject({ state: 'pending', evaluation: { evaluated_at: null } });
      // The burst was one evaluation of each rule: each rule's state was written once.
      const revisions = await t.c.database.db.selectFrom('metric_rules').select(['monitor_id', 'revision']).where('monitor_id', 'in', [last, byTag, bool]).execute();
      expect(revisions.map((r) => Number(r.revision))).toEqual([1, 1, 1]);

      // A paused rule is not evaluated, neither on samples nor on the tick.
      await t.json('PATCH', `/api/v1/metric-rules/${last}`, { is_active: false });
      t.c.clock.advance(SEC);
      await t.fx.samples(cpu1, [[0, 20]]);
      t.fx.announce(cpu1);
      await t.c.services.ruleEvaluator.flush();
      await t.evaluate();
      expect(await t.get(last)).toMatchObject({ state: 'paused', evaluation: { value: 95 } });
      expect(await t.get(byTag)).toMatchObject({ state: 'up', evaluation: { value: 20 } });
    });

    it('a breach opens an incident and reaches a channel as an alert of kind metric', async () => {
      const t = await start();
      expect(await t.json('PATCH', '/api/v1/settings', { alert_grouping_enabled: false })).toMatchObject({ alert_grouping_enabled: false });
      const channel = (await t.json('POST', '/api/v1/channels', { name: 'ops', kind: 'webhook', config: { url: `${standIn.base}/ops` } }, 201)).id;
      const web01 = await t.fx.machine(t.tenant.tenantId, 'web-01');
      const cpu = await t.fx.series(t.tenant.tenantId, web01, 'cpu_percent');
      const id = await t.rule({ name: 'web CPU', metric: 'cpu_percent', warning_threshold: 70, critical_threshold: 90, channel_ids: [channel] });
      await t.fx.samples(cpu, [[0, 50]]);
      t.fx.announce(cpu);
      await t.c.services.ruleEvaluator.flush();
      t.c.clock.advance(10 * SEC);
      await t.fx.samples(cpu, [[0, 93.2]]);
      t.fx.announce(cpu);
      await t.c.services.ruleEvaluator.flush();

      const events = await t.json('GET', `/api/v1/alerts/events?monitor=${id}`);
      expect(events.items).toHaveLength(1);
      expect(events.items[0]).toMatchObject({
        monitor_kind: 'metric',
        monitor_name: 'web CPU',
        from_state: 'up',
        to_state: 'down',
        severity: 'critical',
        reason: 'cpu_percent on web-01 = 93.2 > 90 (critical)',
      });
      expect(await t.json('GET', `/api/v1/incidents?monitor=${id}`)).toMatchObject([{ state: 'open', severity: 'down' }]);

      await t.c.services.alertRouter.routeBatch();
      expect(await t.c.services.delivery.deliverDue()).toBe(1);
      expect(standIn.recorded).toHaveLength(1);
      const hook = JSON.parse(standIn.recorded[0]!.body) as WebhookBody;
      expect(standIn.recorded[0]!.url).toBe('/ops');
      expect(hook.title).toBe('[Acme] web CPU (metric) is DOWN');
      expect(hook.items).toMatchObject([{ monitor_id: id, monitor_kind: 'metric', from_state: 'up', to_state: 'down', reason: 'cpu_percent on web-01 = 93.2 > 90 (critical)' }]);
    });
  });
});
