/**
 * Alert routing end to end on every dialect, with the manual clock and a stand-in webhook
 * receiver: flips recorded through the recorder, routed by the alert router, sent by the
 * delivery loop. Covers one message per flip with grouping off (exact webhook body and
 * idempotency key, recovery with down_for_ms), grouping's group_wait and group_interval, the
 * channel choice (monitor channel_ids, severities, tags, send_resolved, inactive channels),
 * silences (matchers, expiry, pending, validation, listing), reminders (tenant and monitor
 * repeat intervals), the alert events API, and a concurrent double routing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookBody } from '../src/notify/providers/webhook.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { StandIn } from './helpers/receivers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Json = any;

/** The webhook POSTs received, parsed. */
const hooks = () => standIn.recorded.map((r) => ({ ...r, json: JSON.parse(r.body) as WebhookBody }));
/** "path monitor:state,…" per POST, sorted: who got what, at a glance. */
const seen = () =>
  hooks()
    .map((h) => `${h.url} ${h.json.items.map((i) => `${i.monitor_name}:${i.to_state}`).join(',')}`)
    .sort();

describe.each(TEST_DIALECTS)('alert routing on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    standIn.reset();
    await ctx?.close();
    ctx = undefined;
  });

  async function start(settings?: Record<string, unknown>) {
    const c = (ctx = await createTestApp(dialect));
    const tenant = await createTenantWithKey(c, 'full', 'Acme');
    const headers = { 'x-api-key': tenant.apiKey };
    const call = (method: Method, url: string, payload?: object) => c.app.inject({ method, url, headers, ...(payload !== undefined && { payload }) });
    const json = async (method: Method, url: string, payload?: object, status = 200): Promise<Json> => {
      const response = await call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
      return response.json();
    };
    if (settings) expect(await json('PATCH', '/api/v1/settings', settings)).toMatchObject(settings);
    return {
      c,
      call,
      json,
      monitor: async (name: string, tags: string[] = []): Promise<string> =>
        (await json('POST', '/api/v1/http-targets', { name, url: `https://example.test/${name}`, failure_threshold: 1, timeout_seconds: 2, tags }, 201)).id,
      channel: async (name: string, extra: object = {}): Promise<string> =>
        (await json('POST', '/api/v1/channels', { name, kind: 'webhook', config: { url: `${standIn.base}/hook-${name}` }, ...extra }, 201)).id,
      record: async (id: string, status: 'up' | 'down' | 'warning', message: string) => {
        const result = await c.services.recorder.record(id, { status, message });
        expect(result).toMatchObject({ monitorId: id, status, message });
        return result!;
      },
      route: () => c.services.alertRouter.routeBatch(),
      deliver: () => c.services.delivery.deliverDue(),
      flush: async () => ({ routed: await c.services.alertRouter.routeBatch(), sent: await c.services.delivery.deliverDue() }),
    };
  }

  /** Grouping off, one webhook channel; api-3 comes up first, then api-1..3 go down a second apart, routed and delivered. */
  async function threeDownUngrouped() {
    const t = await start({ alert_grouping_enabled: false });
    const a = await t.channel('a');
    const ids = [await t.monitor('api-1'), await t.monitor('api-2'), await t.monitor('api-3')];
    const firstUp = await t.record(ids[2]!, 'up', 'HTTP 200');
    const routedAfterUp = await t.route();
    const flips = [];
    for (const [i, id] of ids.entries()) {
      t.c.clock.advance(1000);
      flips.push(await t.record(id, 'down', `connection refused ${i + 1}`));
    }
    const routed = await t.route();
    const delivered = await t.deliver();
    const incidents: Json[] = await t.json('GET', '/api/v1/incidents');
    const incidentOf = (id: string) => incidents.find((i) => i.monitor_id === id).id as string;
    return { t, a, ids, firstUp, routedAfterUp, flips, routed, delivered, incidents, incidentOf };
  }

  it('grouping off: a first up (pending → up) flips but is not an alert', async () => {
    const { firstUp, routedAfterUp } = await threeDownUngrouped();
    expect(firstUp.flip?.toState).toBe('up');
    expect(routedAfterUp).toEqual({ events: 0, queued: 0 });
  });

  it('grouping off: one POST per flip at once, with its exact body and idempotency key', async () => {
    const { a, ids, flips, routed, delivered, incidents, incidentOf } = await threeDownUngrouped();
    expect(routed).toEqual({ events: 3, queued: 3 });
    expect(delivered).toBe(3);

    expect(incidents).toHaveLength(3);
    expect(standIn.recorded).toHaveLength(3);
    for (const [i, id] of ids.entries()) {
      const hook = hooks().find((h) => h.json.items[0]?.monitor_id === id)!;
      expect(hook.method).toBe('POST');
      expect(hook.url).toBe('/hook-a');
      expect(hook.headers['content-type']).toBe('application/json');
      expect(hook.headers['x-vigie-idempotency-key']).toBe(`${flips[i]!.flip!.id}:${a}`);
      expect(hook.headers['x-vigie-signature']).toBeUndefined();
      expect(hook.json).toEqual({
        version: 1,
        kind: 'alert',
        tenant: { name: 'Acme', time_zone: 'UTC' },
        title: `[Acme] api-${i + 1} (http) is DOWN`,
        text: expect.stringContaining(`Reason: connection refused ${i + 1}`),
        items: [
          {
            monitor_id: id,
            monitor_name: `api-${i + 1}`,
            monitor_kind: 'http',
            from_state: i === 2 ? 'up' : 'pending',
            to_state: 'down',
            reason: `connection refused ${i + 1}`,
            at: iso(flips[i]!.at),
            incident_id: incidentOf(id),
            down_for_ms: null,
          },
        ],
      });
    }
  });

  it('grouping off: the recovery is sent at once with down_for_ms, and nothing is sent twice', async () => {
    const { t, a, ids, flips, incidentOf } = await threeDownUngrouped();
    standIn.reset();
    t.c.clock.advance(90_000);
    const recovered = await t.record(ids[0]!, 'up', 'HTTP 200');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    expect(standIn.recorded).toHaveLength(1);
    const [hook] = hooks();
    expect(hook!.headers['x-vigie-idempotency-key']).toBe(`${recovered.flip!.id}:${a}`);
    expect(hook!.json).toMatchObject({ kind: 'alert', title: '[Acme] api-1 (http) is UP' });
    expect(hook!.json.items).toEqual([
      {
        monitor_id: ids[0],
        monitor_name: 'api-1',
        monitor_kind: 'http',
        from_state: 'down',
        to_state: 'up',
        reason: 'HTTP 200',
        at: iso(recovered.at),
        incident_id: incidentOf(ids[0]!),
        down_for_ms: recovered.at - flips[0]!.at,
      },
    ]);
    expect(recovered.at - flips[0]!.at).toBe(92_000);

    expect(await t.flush()).toEqual({ routed: { events: 0, queued: 0 }, sent: 0 });
    expect(standIn.recorded).toHaveLength(1);
  });

  it('grouping on (default): group_wait gathers three flips into one POST, group_interval holds the next one', async () => {
    const t = await start();
    expect(await t.json('GET', '/api/v1/settings')).toMatchObject({ alert_grouping_enabled: true, group_wait_seconds: 30, group_interval_seconds: 300 });
    const a = await t.channel('a');
    const ids = [await t.monitor('api-1'), await t.monitor('api-2'), await t.monitor('api-3'), await t.monitor('api-4')];
    const t0 = t.c.clock.now();
    const flips = [];
    for (const i of [0, 1, 2]) {
      t.c.clock.set(t0 + i * 2000);
      flips.push(await t.record(ids[i]!, 'down', `refused ${i + 1}`));
      expect(await t.route()).toEqual({ events: 1, queued: 1 });
      expect(await t.deliver()).toBe(0);
    }
    t.c.clock.set(t0 + 29_999);
    expect(await t.deliver()).toBe(0);
    expect(standIn.recorded).toHaveLength(0);

    t.c.clock.set(t0 + 30_000);
    expect(await t.deliver()).toBe(1);
    expect(standIn.recorded).toHaveLength(1);
    const [group] = hooks();
    expect(group!.url).toBe('/hook-a');
    expect(group!.headers['x-vigie-idempotency-key']).toBe(`${flips[0]!.flip!.id}:${a}`);
    expect(group!.json.title).toBe('[Acme] 3 monitors: 3 DOWN');
    expect(group!.json.text).toContain('3 monitors changed state.');
    expect(group!.json.kind).toBe('alert');
    expect(group!.json.items.map((i) => [i.monitor_id, i.from_state, i.to_state, i.reason, i.at])).toEqual([0, 1, 2].map((i) => [ids[i], 'pending', 'down', `refused ${i + 1}`, iso(t0 + i * 2000)]));

    t.c.clock.set(t0 + 60_000);
    const fourth = await t.record(ids[3]!, 'down', 'refused 4');
    expect(await t.route()).toEqual({ events: 1, queued: 1 });
    for (const at of [t0 + 90_000, t0 + 30_000 + 300_000 - 1]) {
      t.c.clock.set(at);
      expect(await t.deliver()).toBe(0);
    }
    expect(standIn.recorded).toHaveLength(1);
    t.c.clock.set(t0 + 30_000 + 300_000);
    expect(await t.deliver()).toBe(1);
    expect(standIn.recorded).toHaveLength(2);
    const next = hooks()[1]!;
    expect(next.headers['x-vigie-idempotency-key']).toBe(`${fourth.flip!.id}:${a}`);
    expect(next.json.title).toBe('[Acme] api-4 (http) is DOWN');
    expect(next.json.items.map((i) => [i.monitor_id, i.reason, i.at])).toEqual([[ids[3], 'refused 4', iso(t0 + 60_000)]]);
  });

  it('grouping on honours a custom group_wait_seconds', async () => {
    const t = await start({ group_wait_seconds: 5 });
    await t.channel('a');
    const id = await t.monitor('api-1');
    const t0 = t.c.clock.now();
    await t.record(id, 'down', 'refused');
    expect(await t.route()).toEqual({ events: 1, queued: 1 });
    t.c.clock.set(t0 + 4_999);
    expect(await t.deliver()).toBe(0);
    t.c.clock.set(t0 + 5_000);
    expect(await t.deliver()).toBe(1);
    expect(seen()).toEqual(['/hook-a api-1:down']);
  });

  it("routes to the monitor's channel_ids: [A] → A only, [] → nobody (event still listed), null → every channel", async () => {
    const t = await start({ alert_grouping_enabled: false });
    const a = await t.channel('a');
    await t.channel('b');
    const only = await t.monitor('api-1');
    const none = await t.monitor('api-2');
    expect((await t.json('GET', `/api/v1/monitors/${only}`)).channel_ids).toBeNull();
    expect((await t.json('PATCH', `/api/v1/monitors/${only}`, { channel_ids: [a] })).channel_ids).toEqual([a]);
    expect((await t.json('PATCH', `/api/v1/monitors/${none}`, { channel_ids: [] })).channel_ids).toEqual([]);
    await t.record(only, 'down', 'refused');
    await t.record(none, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a api-1:down']);

    const listed = await t.json('GET', `/api/v1/alerts/events?monitor=${none}`);
    expect(listed.total).toBe(1);
    expect(listed.items[0]).toMatchObject({ monitor_id: none, to_state: 'down', routed_at: iso(t.c.clock.now()), suppressed_by: null, notifications: [] });

    standIn.reset();
    expect((await t.json('PATCH', `/api/v1/monitors/${none}`, { channel_ids: null })).channel_ids).toBeNull();
    await t.record(none, 'up', 'HTTP 200'); // nobody was told of that failure: nobody hears of its end
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 0 }, sent: 0 });
    await t.record(none, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 2 }, sent: 2 });
    expect(seen()).toEqual(['/hook-a api-2:down', '/hook-b api-2:down']);
  });

  it("a channel with severities ['critical'] skips a warning flip and gets the down", async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('all');
    await t.channel('crit', { severities: ['critical'] });
    const id = await t.monitor('api-1');
    expect((await t.record(id, 'warning', 'slow: 2100 ms')).flip?.toState).toBe('warning');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-all api-1:warning']);
    expect((await t.json('GET', '/api/v1/alerts/events')).items[0].severity).toBe('warning');

    standIn.reset();
    expect((await t.record(id, 'down', 'refused')).flip?.toState).toBe('down');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 2 }, sent: 2 });
    expect(seen()).toEqual(['/hook-all api-1:down', '/hook-crit api-1:down']);
  });

  it("a channel with tags ['db'] only gets monitors tagged db", async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('all');
    await t.channel('db', { tags: ['db'] });
    await t.record(await t.monitor('db-1', ['db', 'prod']), 'down', 'refused');
    await t.record(await t.monitor('web-1', ['web', 'prod']), 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 3 }, sent: 3 });
    expect(seen()).toEqual(['/hook-all db-1:down', '/hook-all web-1:down', '/hook-db db-1:down']);
  });

  it('send_resolved false gets the down but not the recovery; an inactive channel gets nothing', async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('all');
    await t.channel('quiet', { send_resolved: false });
    expect((await t.json('POST', '/api/v1/channels', { name: 'off', kind: 'webhook', config: { url: `${standIn.base}/hook-off` }, is_active: false }, 201)).is_active).toBe(false);
    const id = await t.monitor('api-1');
    await t.record(id, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 2 }, sent: 2 });
    t.c.clock.advance(MIN);
    await t.record(id, 'up', 'HTTP 200');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-all api-1:down', '/hook-all api-1:up', '/hook-quiet api-1:down']);
  });

  it('a recovery goes only to the channels told of its incident: not to one added since, nor to one whose filters skipped it all', async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('all');
    await t.channel('crit', { severities: ['critical'] });
    await t.channel('web', { tags: ['web'] });
    const id = await t.monitor('db-1', ['db']);
    await t.record(id, 'warning', 'slow: 2100 ms');
    await t.record(id, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 3 }, sent: 3 });
    expect(seen()).toEqual(['/hook-all db-1:warning', '/hook-all db-1:down', '/hook-crit db-1:down'].sort());
    await t.channel('late');

    standIn.reset();
    await t.record(id, 'up', 'HTTP 200');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 2 }, sent: 2 });
    expect(seen()).toEqual(['/hook-all db-1:up', '/hook-crit db-1:up']);
    // The next incident reaches the channel added meanwhile, and so does its end.
    standIn.reset();
    await t.record(id, 'down', 'refused');
    await t.record(id, 'up', 'HTTP 200');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 6 }, sent: 6 });
    expect(seen()).toEqual(['/hook-all db-1:down', '/hook-all db-1:up', '/hook-crit db-1:down', '/hook-crit db-1:up', '/hook-late db-1:down', '/hook-late db-1:up']);
  });

  it('a tag silence suppresses the db monitor (suppressed_by) but not the other; alerts flow after ends_at', async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('a');
    const db = await t.monitor('db-1', ['db']);
    const web = await t.monitor('web-1', ['web']);
    const now = t.c.clock.now();
    const matchers = [{ field: 'tag', op: '=', value: 'db' }];
    const silence = await t.json('POST', '/api/v1/silences', { matchers, ends_at: iso(now + 60 * MIN), comment: 'db migration' }, 201);
    expect(silence).toEqual({
      id: expect.stringMatching(UUID),
      matchers,
      starts_at: iso(now),
      ends_at: iso(now + 60 * MIN),
      comment: 'db migration',
      created_by: 'API key full key',
      state: 'active',
      created_at: iso(now),
      updated_at: iso(now),
    });
    await t.record(db, 'down', 'refused');
    await t.record(web, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a web-1:down']);
    const event = (await t.json('GET', `/api/v1/alerts/events?monitor=${db}`)).items[0];
    expect(await t.json('GET', `/api/v1/alerts/events/${event.id}`)).toMatchObject({ id: event.id, suppressed_by: `silence ${silence.id}`, notifications: [] });

    standIn.reset();
    t.c.clock.set(now + 60 * MIN);
    expect((await t.json('GET', `/api/v1/silences/${silence.id}`)).state).toBe('expired');
    await t.record(db, 'up', 'HTTP 200'); // the end of a failure nobody was told of goes to nobody
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 0 }, sent: 0 });
    await t.record(db, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a db-1:down']);
  });

  it('a regex matcher is anchored (api-.* silences api-1, not my-api-1); expire ends it at once', async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('a');
    const api = await t.monitor('api-1');
    const mine = await t.monitor('my-api-1');
    const silence = await t.json(
      'POST',
      '/api/v1/silences',
      { matchers: [{ field: 'name', op: '=~', value: 'api-.*' }], ends_at: iso(t.c.clock.now() + 60 * MIN), comment: 'deploy', created_by: 'alice' },
      201,
    );
    expect(silence.created_by).toBe('alice');
    await t.record(api, 'down', 'refused');
    await t.record(mine, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a my-api-1:down']);

    standIn.reset();
    t.c.clock.advance(MIN);
    expect(await t.json('POST', `/api/v1/silences/${silence.id}/expire`)).toMatchObject({ state: 'expired', ends_at: iso(t.c.clock.now()) });
    await t.record(api, 'up', 'HTTP 200'); // its failure was silenced: its end goes to nobody
    await t.record(api, 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a api-1:down']);
  });

  it('a != matcher silences the monitors without the tag; a pending silence suppresses nothing', async () => {
    const t = await start({ alert_grouping_enabled: false });
    await t.channel('a');
    const now = t.c.clock.now();
    const pending = await t.json(
      'POST',
      '/api/v1/silences',
      { matchers: [{ field: 'kind', op: '=', value: 'http' }], starts_at: iso(now + 10 * MIN), ends_at: iso(now + 60 * MIN), comment: 'later' },
      201,
    );
    expect(pending.state).toBe('pending');
    await t.json('POST', '/api/v1/silences', { matchers: [{ field: 'tag', op: '!=', value: 'db' }], ends_at: iso(now + 60 * MIN), comment: 'all but db' }, 201);
    await t.record(await t.monitor('db-1', ['db']), 'down', 'refused');
    await t.record(await t.monitor('web-1', ['web']), 'down', 'refused');
    await t.record(await t.monitor('bare-1'), 'down', 'refused');
    expect(await t.flush()).toEqual({ routed: { events: 3, queued: 1 }, sent: 1 });
    expect(seen()).toEqual(['/hook-a db-1:down']);
  });

  it('silences: validation (invalid regex, ends_at before starts_at), and ?state= filters', async () => {
    const t = await start();
    const now = t.c.clock.now();
    const ends_at = iso(now + 60 * MIN);
    const bad = await t.call('POST', '/api/v1/silences', { matchers: [{ field: 'name', op: '=~', value: '(' }], ends_at, comment: 'x' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toEqual({ detail: [{ loc: ['body', 'matchers', 0, 'value'], msg: expect.stringContaining('Invalid regular expression'), type: 'value_error' }] });
    const second = await t.call('POST', '/api/v1/silences', {
      matchers: [
        { field: 'tag', op: '=', value: 'db' },
        { field: 'name', op: '!~', value: '[a-' },
      ],
      ends_at,
      comment: 'x',
    });
    expect(second.statusCode).toBe(422);
    expect(second.json().detail.map((p: Json) => p.loc)).toEqual([['body', 'matchers', 1, 'value']]);
    const backwards = await t.call('POST', '/api/v1/silences', { matchers: [{ field: 'tag', op: '=', value: 'db' }], starts_at: iso(now + 2 * MIN), ends_at: iso(now + MIN), comment: 'x' });
    expect(backwards.statusCode).toBe(422);
    expect(backwards.json()).toEqual({ detail: [{ loc: ['body', 'ends_at'], msg: 'ends_at must be after starts_at', type: 'value_error' }] });
    expect(await t.json('GET', '/api/v1/silences')).toEqual([]);

    const make = async (starts: number, ends: number) =>
      (await t.json('POST', '/api/v1/silences', { matchers: [{ field: 'tag', op: '=', value: 'db' }], starts_at: iso(starts), ends_at: iso(ends), comment: 'c' }, 201)).id as string;
    const active = await make(now - MIN, now + 120 * MIN);
    const pending = await make(now + 10 * MIN, now + 60 * MIN);
    const expired = await make(now - 120 * MIN, now - 60 * MIN);
    const ids = async (query: string) => ((await t.json('GET', `/api/v1/silences${query}`)) as Json[]).map((s) => [s.id, s.state]);
    expect(await ids('?state=active')).toEqual([[active, 'active']]);
    expect(await ids('?state=pending')).toEqual([[pending, 'pending']]);
    expect(await ids('?state=expired')).toEqual([[expired, 'expired']]);
    expect(await ids('')).toEqual([
      [active, 'active'],
      [pending, 'pending'],
      [expired, 'expired'],
    ]);
    expect((await t.call('GET', '/api/v1/silences?state=bogus')).statusCode).toBe(422);
  });

  it('an escalation (warning, then down) restarts the reminder clock: the next reminder is a repeat interval after it', async () => {
    const t = await start({ alert_grouping_enabled: false, repeat_interval_seconds: 3600 });
    await t.channel('a');
    const id = await t.monitor('api-1');
    const t0 = t.c.clock.now();
    await t.record(id, 'warning', 'slow: 2100 ms');
    t.c.clock.set(t0 + 50 * MIN);
    await t.record(id, 'down', 'connection refused');
    expect(await t.flush()).toEqual({ routed: { events: 2, queued: 2 }, sent: 2 });
    const queueAt = async (minutes: number) => {
      t.c.clock.set(t0 + minutes * MIN);
      return t.c.services.reminders.queueDue();
    };
    expect(await queueAt(60)).toBe(0); // an hour after the warning, but ten minutes after the down
    expect(await queueAt(109)).toBe(0);
    expect(await queueAt(110)).toBe(1);
    const reminder = (await t.json('GET', '/api/v1/alerts/events?kind=reminder')).items[0];
    expect(reminder).toMatchObject({ kind: 'reminder', to_state: 'down', severity: 'critical' });
  });

  it('reminders: tenant repeat interval, monitor override (600 s, then 0 = none), none after recovery', async () => {
    const t = await start({ alert_grouping_enabled: false, repeat_interval_seconds: 3600 });
    const a = await t.channel('a');
    const id = await t.monitor('api-1');
    const t0 = t.c.clock.now();
    await t.record(id, 'down', 'connection refused');
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    standIn.reset();
    const queueAt = async (minutes: number) => {
      t.c.clock.set(t0 + minutes * MIN);
      return t.c.services.reminders.queueDue();
    };

    expect(await queueAt(59)).toBe(0);
    expect(await queueAt(60)).toBe(1);
    expect(await t.flush()).toEqual({ routed: { events: 1, queued: 1 }, sent: 1 });
    const reminder = (await t.json('GET', '/api/v1/alerts/events?kind=reminder')).items[0];
    const [incident] = await t.json('GET', '/api/v1/incidents');
    const [hook] = hooks();
    expect(hook!.url).toBe('/hook-a');
    expect(hook!.headers['x-vigie-idempotency-key']).toBe(`${reminder.id}:${a}`);
    expect(hook!.json.kind).toBe('reminder');
    expect(hook!.json.title.startsWith('[Acme] Reminder: ')).toBe(true);
    expect(hook!.json.title).toBe('[Acme] Reminder: api-1 (http) is still DOWN');
    expect(hook!.json.items).toEqual([
      {
        monitor_id: id,
        monitor_name: 'api-1',
        monitor_kind: 'http',
        from_state: 'down',
        to_state: 'down',
        reason: 'connection refused',
        at: iso(t0 + 60 * MIN),
        incident_id: incident.id,
        down_for_ms: 60 * MIN,
      },
    ]);

    expect(await queueAt(61)).toBe(0);
    expect(await queueAt(119)).toBe(0);
    expect(await queueAt(120)).toBe(1);

    expect((await t.json('PATCH', `/api/v1/monitors/${id}`, { repeat_interval_seconds: 600 })).repeat_interval_seconds).toBe(600);
    expect(await queueAt(129)).toBe(0);
    expect(await queueAt(130)).toBe(1);
    expect((await t.json('PATCH', `/api/v1/monitors/${id}`, { repeat_interval_seconds: 0 })).repeat_interval_seconds).toBe(0);
    expect(await queueAt(200)).toBe(0);

    await t.record(id, 'up', 'HTTP 200');
    // Back to the tenant's hour: null is kept as null (not coerced to 0, which means "never").
    expect((await t.json('PATCH', `/api/v1/monitors/${id}`, { repeat_interval_seconds: null })).repeat_interval_seconds).toBeNull();
    expect(await queueAt(400)).toBe(0);
    expect((await t.json('GET', '/api/v1/alerts/events?kind=reminder')).total).toBe(3);
  });

  /** Grouping off, one channel: api-1 down, api-2 down, api-1 up, a second apart, routed and sent. */
  async function threeEventsSent() {
    const t = await start({ alert_grouping_enabled: false });
    const a = await t.channel('a');
    const m1 = await t.monitor('api-1');
    const m2 = await t.monitor('api-2');
    const t0 = t.c.clock.now();
    await t.record(m1, 'down', 'refused 1');
    t.c.clock.advance(1000);
    const second = await t.record(m2, 'down', 'refused 2');
    t.c.clock.advance(1000);
    await t.record(m1, 'up', 'HTTP 200');
    expect(await t.flush()).toEqual({ routed: { events: 3, queued: 3 }, sent: 3 });
    const sentAt = iso(t0 + 2000);
    const list = await t.json('GET', '/api/v1/alerts/events');
    return { t, a, m1, m2, t0, second, sentAt, list };
  }

  it('alert events API: newest first with total, limit and offset; each event with its notifications but no attempt log', async () => {
    const { m1, m2, t0, sentAt, list } = await threeEventsSent();
    expect(list).toMatchObject({ total: 3, limit: 100, offset: 0 });
    expect(list.items.map((e: Json) => [e.monitor_id, e.from_state, e.to_state, e.at])).toEqual([
      [m1, 'down', 'up', iso(t0 + 2000)],
      [m2, 'pending', 'down', iso(t0 + 1000)],
      [m1, 'pending', 'down', iso(t0)],
    ]);
    expect(list.items[0]).toMatchObject({
      kind: 'alert',
      monitor_name: 'api-1',
      monitor_kind: 'http',
      severity: 'critical',
      reason: 'HTTP 200',
      down_for_ms: 2000,
      routed_at: sentAt,
      suppressed_by: null,
    });
    expect(list.items[0].notifications).toHaveLength(1);
    expect(list.items[0].notifications[0].attempt_log).toBeUndefined();
  });

  it("alert events API: ?monitor= lists only that monitor's events", async () => {
    const { t, m1 } = await threeEventsSent();
    const byMonitor = await t.json('GET', `/api/v1/alerts/events?monitor=${m1}`);
    expect(byMonitor.total).toBe(2);
    expect(byMonitor.items.map((e: Json) => e.monitor_id)).toEqual([m1, m1]);
  });

  it('alert events API: one event in detail, with each notification and its attempt log', async () => {
    const { t, a, second, sentAt, list } = await threeEventsSent();
    const eventId = list.items[1].id;
    expect(await t.json('GET', `/api/v1/alerts/events/${eventId}`)).toEqual({
      ...list.items[1],
      notifications: [
        {
          id: expect.stringMatching(UUID),
          channel_id: a,
          channel_name: 'a',
          channel_kind: 'webhook',
          status: 'sent',
          grouped: false,
          idempotency_key: `${second.flip!.id}:${a}`,
          attempts: 1,
          next_attempt_at: null,
          first_attempt_at: sentAt,
          sent_at: sentAt,
          last_error: null,
          created_at: sentAt,
          event_ids: [eventId],
          attempt_log: [{ at: sentAt, ok: true, retryable: false, status: 200, detail: `HTTP 200 from ${standIn.host}: {"ok":true}`, duration_ms: 0 }],
        },
      ],
    });
  });

  it('alert events API: ?kind= tells reminders from alerts, and a reminder is listed as the newest event', async () => {
    const { t, m2, t0 } = await threeEventsSent();
    await t.json('PATCH', '/api/v1/settings', { repeat_interval_seconds: 3600 });
    t.c.clock.set(t0 + 1000 + 60 * MIN);
    expect(await t.c.services.reminders.queueDue()).toBe(1);
    const reminders = await t.json('GET', '/api/v1/alerts/events?kind=reminder');
    expect(reminders.total).toBe(1);
    expect(reminders.items[0]).toMatchObject({ kind: 'reminder', monitor_id: m2, routed_at: null, notifications: [] });
    expect((await t.json('GET', '/api/v1/alerts/events?kind=alert')).total).toBe(3);
    expect((await t.json('GET', '/api/v1/alerts/events')).items[0].id).toBe(reminders.items[0].id);
  });

  it('alert events API: an unknown event id is 404, a malformed one 422 at path.id', async () => {
    const t = await start({ alert_grouping_enabled: false });
    const missing = await t.call('GET', `/api/v1/alerts/events/${randomUUID()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'Alert event not found' });
    const malformed = await t.call('GET', '/api/v1/alerts/events/not-a-uuid');
    expect(malformed.statusCode).toBe(422);
    expect(malformed.json().detail[0].loc).toEqual(['path', 'id']);
  });

  it.each([false, true])('routing twice at once (grouping %s) queues exactly one row per channel', async (grouping) => {
    const t = await start({ alert_grouping_enabled: grouping });
    const channels = [await t.channel('a'), await t.channel('b')];
    const id = await t.monitor('api-1');
    await t.record(id, 'down', 'refused');
    const [first, second] = await Promise.all([t.route(), t.route()]);
    expect(first!.events + second!.events).toBe(1);
    expect(first!.queued + second!.queued).toBe(2);
    expect(await t.route()).toEqual({ events: 0, queued: 0 });

    const [event] = (await t.json('GET', '/api/v1/alerts/events')).items;
    const rows: Json[] = await t.json('GET', '/api/v1/alerts/notifications');
    expect(rows.map((r) => r.channel_id).sort()).toEqual([...channels].sort());
    for (const row of rows) expect(row).toMatchObject({ status: 'pending', grouped: grouping, event_ids: [event.id], attempts: 0 });
  });
});
