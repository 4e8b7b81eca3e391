/**
 * What a subscriber receives, on a listening server with the real producers: every topic reaches
 * the sockets of its tenant and never another tenant's; `seq` counts a socket's events; each
 * filter; coalescing on a hand-moved clock; malformed messages answered without closing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type RealtimeEvent } from '../src/realtime/topics.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { openSocket, quietFor, startRealtimeServer, subscribe, type Message, type RealtimeServer, type TestSocket } from './helpers/realtime.js';
import { closedPort } from './helpers/receivers.js';

describe.each(TEST_DIALECTS)('realtime streams (%s)', (dialect) => {
  let server: RealtimeServer;
  const tenants: { id: string; key: string }[] = [];

  beforeAll(async () => {
    server = await startRealtimeServer(dialect, { env: { WS_COALESCE_MS: '1000' } });
    for (const name of ['acme', 'globex']) {
      const tenant = await server.services.tenants.create({ name });
      tenants.push({ id: tenant.id, key: (await server.services.apiKeys.create(tenant.id, { name: 'full', scope: 'full' })).secret });
    }
  });
  afterAll(async () => server.close());

  const api = async (key: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = {}) => {
    const response = await server.app.inject({ method, url, headers: { 'x-api-key': key, ...headers }, ...(payload && { payload }) });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  };
  const connect = (key: string) => openSocket(server.wsUrl, { headers: { 'x-api-key': key } });

  /** Makes tenant's monitors do everything that is published: results, flips, incidents, alerts, a notification, pings, a machine and its metrics, a self check. */
  async function produceEverything(tenant: { id: string; key: string }) {
    const { services, database, clock } = server;
    await api(tenant.key, 'PATCH', '/api/v1/settings', { alert_grouping_enabled: false });
    await api(tenant.key, 'POST', '/api/v1/channels', { name: 'hook', kind: 'webhook', config: { url: `http://127.0.0.1:${await closedPort()}/hook` } });
    const http = (await api(tenant.key, 'POST', '/api/v1/http-targets', { name: 'site', url: 'https://example.com/', failure_threshold: 1, recovery_threshold: 1, tags: ['web'] })).id as string;
    clock.advance(1000);
    await services.recorder.record(http, { status: 'up', message: 'fine' });
    clock.advance(1000);
    await services.recorder.record(http, { status: 'down', message: 'refused' });
    const incident = (await services.incidents.list(tenant.id, { limit: 10, offset: 0, monitorId: http }))[0]!;
    await services.incidents.acknowledge(tenant.id, incident.id, 'someone');
    await services.alertRouter.routeBatch();
    await services.delivery.deliverDue();
    const check = await services.heartbeats.create(tenant.id, { ...(await import('../src/heartbeats/heartbeats.service.js')).NEW_CHECK, name: 'job', slug: null });
    await services.pings.record({ pingUuid: check.pingUuid, kind: 'success', exitStatus: null, rid: null, method: 'GET', remoteAddr: null, userAgent: null, body: null, bodySize: 0 });
    await api(
      tenant.key,
      'POST',
      '/api/v1/ingest/metrics',
      { machine: { hostname: 'db1', os: 'linux' }, metrics: [{ name: 'cpu_percent', type: 'numeric', value: 12.5, labels: { core: '0' } }] },
      { 'x-ingest-id': randomUUID() },
    );
    const self = randomUUID();
    const now = clock.now();
    await database.db
      .insertInto('monitors')
      .values({
        id: self,
        tenant_id: tenant.id,
        kind: 'self',
        name: 'database',
        failure_threshold: 1,
        interval_seconds: null,
        last_checked_at: null,
        next_due_at: null,
        state_changed_at: null,
        repeat_interval_seconds: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await services.recorder.record(self, { status: 'up', message: 'database answers' });
    return { http, check: check.id, self };
  }

  it('brings every topic to its tenant, numbered by seq, and nothing to another tenant', async () => {
    const [a, b] = tenants as [{ id: string; key: string }, { id: string; key: string }];
    const mine = await connect(a.key);
    const theirs = await connect(b.key);
    for (const topic of TOPICS) {
      await subscribe(mine, topic, topic);
      await subscribe(theirs, topic, topic);
    }
    const producedFrom = Date.now();
    const ids = await produceEverything(a);
    const producedUntil = Date.now();
    const seen = new Map<string, Message[]>();
    const received: Message[] = [];
    while (TOPICS.some((topic) => !seen.has(topic))) {
      const message = await mine
        .next((m) => typeof m.seq === 'number', 10_000)
        .catch(() => {
          throw new Error(`missing topics: ${TOPICS.filter((t) => !seen.has(t)).join(', ')}`);
        });
      received.push(message);
      seen.set(message.subscription, [...(seen.get(message.subscription) ?? []), message]);
    }
    expect(received.map((m) => m.seq)).toEqual(received.map((_, i) => i + 1));
    expect(seen.get('results')![0]).toMatchObject({ type: 'result', data: { monitor_id: ids.http, kind: 'http', status: 'up', message: 'fine' } });
    expect(new Date(seen.get('results')![0]!.timestamp).getTime()).toBe(seen.get('results')![0]!.data.at);
    // published_at: when the hub was given each event, after its commit (real time, whatever the test clock says).
    for (const message of received) {
      expect(message.published_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(message.published_at as string)).toBeGreaterThanOrEqual(producedFrom);
      expect(Date.parse(message.published_at as string)).toBeLessThanOrEqual(producedUntil);
    }
    expect(seen.get('monitors')!.map((m) => m.data.state)).toContain('up');
    expect(seen.get('incidents')![0]).toMatchObject({ type: 'incident', data: { monitor_id: ids.http, action: 'opened', severity: 'critical' } });
    expect(seen.get('alerts')![0]).toMatchObject({ type: 'alert', data: { monitor_id: ids.http, level: 'critical', resolved: false, to_state: 'down' } });
    expect(seen.get('notifications')![0]).toMatchObject({ type: 'notification', data: { outcome: 'retry' } });
    expect(seen.get('pings')![0]).toMatchObject({ type: 'ping', data: { monitor_id: ids.check, ping_kind: 'success' } });
    expect(seen.get('machines')![0]).toMatchObject({ type: 'machine_status', data: { state: 'up' } });
    expect(seen.get('metrics')![0]).toMatchObject({ type: 'metrics_update', data: { name: 'cpu_percent', labels: { core: '0' }, value: 12.5 } });
    expect(seen.get('system_status')![0]).toMatchObject({ type: 'system_status', data: { monitor_id: ids.self, name: 'database', state: 'up' } });
    // The acknowledgement is an incident event too.
    const acknowledged = [...(seen.get('incidents') ?? []), ...mine.pending().filter((m) => m.subscription === 'incidents')];
    if (!acknowledged.some((m) => m.data.action === 'acknowledged')) await mine.next((m) => m.subscription === 'incidents' && m.data.action === 'acknowledged');
    // The other tenant's socket, subscribed to everything, got none of it.
    expect(await quietFor(theirs, 300)).toEqual([]);
    mine.close();
    theirs.close();
  });

  describe('filters', () => {
    const tenantOf = () => tenants[1]!;
    let socket: TestSocket;
    const publish = (...events: RealtimeEvent[]) => server.services.hub.publish(...events);
    const result = (monitorId: string, extra: Partial<Record<string, unknown>> = {}): RealtimeEvent =>
      ({
        topic: 'results',
        tenantId: tenantOf().id,
        data: { monitor_id: monitorId, kind: 'http', at: server.clock.now(), status: 'up', latency_ms: 1, value: null, message: 'ok', ...extra },
      }) as RealtimeEvent;

    beforeAll(async () => {
      socket = await connect(tenantOf().key);
    });
    afterAll(() => socket.close());

    /** Subscribes with the filter, publishes the events, and returns the data of those received (in order). */
    async function through(streamType: string, filters: Record<string, unknown>, events: RealtimeEvent[]): Promise<Record<string, unknown>[]> {
      const id = randomUUID();
      await subscribe(socket, id, streamType, filters);
      // A marker with every field the filter wants closes the list: what came before it is all that matched.
      publish(...events);
      const got: Record<string, unknown>[] = [];
      await quietFor(socket, 150);
      for (const message of socket.pending().filter((m) => m.subscription === id)) got.push((await socket.next((m) => m === message)).data);
      socket.send({ action: 'unsubscribe', id });
      await socket.next((m) => m.type === 'unsubscribed' && m.id === id);
      return got;
    }

    it('monitor_ids, kinds, states', async () => {
      expect((await through('results', { monitor_ids: ['m1'] }, [result('m1'), result('m2')])).map((d) => d.monitor_id)).toEqual(['m1']);
      expect((await through('results', { kinds: ['heartbeat'] }, [result('m3'), result('m4', { kind: 'heartbeat' })])).map((d) => d.monitor_id)).toEqual(['m4']);
      expect((await through('results', { states: ['down'] }, [result('m5'), result('m6', { status: 'down' })])).map((d) => d.monitor_id)).toEqual(['m6']);
    });

    it('tags, resolved from the monitors of the tenant', async () => {
      const tenant = tenantOf();
      const tagged = (await api(tenant.key, 'POST', '/api/v1/http-targets', { name: 'tagged', url: 'https://a.example/', tags: ['prod'] })).id as string;
      const other = (await api(tenant.key, 'POST', '/api/v1/http-targets', { name: 'other', url: 'https://b.example/', tags: ['dev'] })).id as string;
      expect((await through('results', { tags: ['prod'] }, [result(other), result(tagged)])).map((d) => d.monitor_id)).toEqual([tagged]);
    });

    it('severities and alert_levels', async () => {
      const alert = (id: string, level: string): RealtimeEvent =>
        ({
          topic: 'alerts',
          tenantId: tenantOf().id,
          data: { monitor_id: id, kind: 'http', flip_id: id, from_state: 'up', to_state: 'down', level, resolved: false, reason: null, at: 1 },
        }) as RealtimeEvent;
      expect((await through('alerts', { alert_levels: ['critical'] }, [alert('w', 'warning'), alert('c', 'critical')])).map((d) => d.monitor_id)).toEqual(['c']);
      expect((await through('alerts', { severities: ['warning'] }, [alert('w', 'warning'), alert('c', 'critical')])).map((d) => d.monitor_id)).toEqual(['w']);
    });

    it('machine_ids, series_names, labels, container_ids, service_names', async () => {
      const metric = (series: number, fields: Record<string, unknown>): RealtimeEvent =>
        ({ topic: 'metrics', tenantId: tenantOf().id, data: { machine_id: 'mA', series_id: series, name: 'cpu', labels: {}, at: 1, value: 1, text: null, ...fields } }) as RealtimeEvent;
      const ids = (data: Record<string, unknown>[]) => data.map((d) => d.series_id);
      expect(ids(await through('metrics', { machine_ids: ['mB'] }, [metric(1, {}), metric(2, { machine_id: 'mB' })]))).toEqual([2]);
      expect(ids(await through('metrics', { series_names: ['mem'] }, [metric(3, {}), metric(4, { name: 'mem' })]))).toEqual([4]);
      expect(ids(await through('metrics', { labels: { core: '1', host: 'a' } }, [metric(5, { labels: { core: '1' } }), metric(6, { labels: { core: '1', host: 'a', x: 'y' } })]))).toEqual([6]);
      expect(ids(await through('metrics', { container_ids: ['abc123'] }, [metric(7, { container_id: 'zzz' }), metric(8, { container_id: 'abc123' })]))).toEqual([8]);
      expect(ids(await through('metrics', { service_names: ['web', 'db'] }, [metric(9, { service_name: 'cache' }), metric(10, { service_name: 'db' })]))).toEqual([10]);
    });
  });

  it('coalesces a monitor that changes many times within the interval: the first at once, then the latest', async () => {
    const tenant = tenants[0]!;
    const socket = await connect(tenant.key);
    await subscribe(socket, 'r', 'results', { monitor_ids: ['busy', 'calm'] });
    const event = (monitorId: string, value: number): RealtimeEvent => ({
      topic: 'results',
      tenantId: tenant.id,
      data: { monitor_id: monitorId, kind: 'http', at: server.clock.now(), status: 'up', latency_ms: value, value, message: `#${value}` },
    });
    server.services.hub.publish(...[1, 2, 3, 4, 5].map((v) => event('busy', v)), event('calm', 1));
    expect((await socket.next()).data).toMatchObject({ monitor_id: 'busy', value: 1 });
    expect((await socket.next()).data).toMatchObject({ monitor_id: 'calm', value: 1 });
    expect(await quietFor(socket, 200)).toEqual([]); // 2–5 are held, not sent
    server.scheduler.advance(999);
    expect(await quietFor(socket, 100)).toEqual([]);
    server.scheduler.advance(1);
    const latest = await socket.next();
    expect(latest.data).toMatchObject({ monitor_id: 'busy', value: 5 });
    expect(await quietFor(socket, 200)).toEqual([]);
    // After a quiet interval, the next change goes out at once again.
    server.scheduler.advance(2000);
    server.services.hub.publish(event('busy', 6));
    expect((await socket.next()).data).toMatchObject({ monitor_id: 'busy', value: 6 });
    socket.close();
  });

  it('coalesces once for the subscriptions that share it, and apart for one with a states filter, which never loses a down held behind an up', async () => {
    const tenant = tenants[0]!;
    const everything = await connect(tenant.key);
    const another = await connect(tenant.key);
    const downs = await connect(tenant.key);
    await subscribe(everything, 'all', 'results');
    await subscribe(another, 'some', 'results', { monitor_ids: ['flappy'] });
    await subscribe(downs, 'down', 'results', { states: ['down'] });
    const result = (status: 'up' | 'down', value: number): RealtimeEvent => ({
      topic: 'results',
      tenantId: tenant.id,
      data: { monitor_id: 'flappy', kind: 'http', at: server.clock.now(), status, latency_ms: value, value, message: `#${value}` },
    });
    server.services.hub.publish(result('up', 1), result('down', 2), result('up', 3));
    // The shared stage lets the first through to both of its subscriptions, and holds the rest.
    expect((await everything.next()).data).toMatchObject({ status: 'up', value: 1 });
    expect((await another.next()).data).toMatchObject({ status: 'up', value: 1 });
    // The states subscription coalesces on its own, after its filter: the down is its first, sent at once.
    expect((await downs.next()).data).toMatchObject({ status: 'down', value: 2 });
    expect(await quietFor(everything, 100)).toEqual([]);
    server.scheduler.advance(1000);
    expect((await everything.next()).data).toMatchObject({ status: 'up', value: 3 });
    expect((await another.next()).data).toMatchObject({ status: 'up', value: 3 });
    expect(await quietFor(downs, 100)).toEqual([]);
    for (const socket of [everything, another, downs]) socket.close();
  });

  it('publishes after the commit: a rolled-back result is never sent', async () => {
    const tenant = tenants[0]!;
    const monitor = (await api(tenant.key, 'POST', '/api/v1/http-targets', { name: 'rollback', url: 'https://c.example/' })).id as string;
    const socket = await connect(tenant.key);
    await subscribe(socket, 'r', 'results', { monitor_ids: [monitor] });
    const rolledBack = server.database.db.transaction().execute(async (trx) => {
      await server.services.recorder.recordWithin(trx, monitor, { status: 'down', message: 'never happened' }, server.clock.now());
      throw new Error('abort');
    });
    await expect(rolledBack).rejects.toThrow('abort');
    await server.services.recorder.record(monitor, { status: 'up', message: 'committed' });
    expect((await socket.next()).data).toMatchObject({ monitor_id: monitor, message: 'committed' });
    expect(await quietFor(socket, 200)).toEqual([]);
    socket.close();
  });

  it('describes the WebSocket API in the OpenAPI document, from the topic list', async () => {
    const description = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json().info.description as string;
    expect(description).toContain('GET /api/v1/ws');
    for (const topic of TOPICS) expect(description).toContain(`| \`${topic}\` |`);
    expect(description).toContain('`container_ids`');
  });

  it('answers malformed messages with an error naming the problem, and stays open', async () => {
    const socket = await connect(tenants[0]!.key);
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['[1, 2]', /JSON object/],
      [{ action: 'dance' }, /action must be one of/],
      [{ action: 'subscribe', stream_type: 'results' }, /id must be a string/],
      [{ action: 'subscribe', id: 'x', stream_type: 'weather' }, /stream_type must be one of results, monitors/],
      [{ action: 'subscribe', id: 'x', stream_type: 'results', filters: { colour: ['red'] } }, /filters.colour is not a filter/],
      [{ action: 'subscribe', id: 'x', stream_type: 'pings', filters: { series_names: ['cpu'] } }, /filters.series_names does not apply to pings/],
      [{ action: 'subscribe', id: 'x', stream_type: 'results', filters: { states: ['sideways'] } }, /filters.states: "sideways" is not one of/],
      [{ action: 'subscribe', id: 'x', stream_type: 'results', filters: { monitor_ids: 'm1' } }, /filters.monitor_ids must be a list/],
      [{ action: 'subscribe', id: 'x', stream_type: 'metrics', filters: { labels: ['a'] } }, /filters.labels must be an object/],
      [{ action: 'unsubscribe', id: 'nope' }, /no subscription with id "nope"/],
    ];
    for (const [message, expected] of cases) {
      socket.send(message);
      const reply = await socket.next();
      expect(reply.type, JSON.stringify(message)).toBe('error');
      expect(reply.detail).toMatch(expected);
    }
    await subscribe(socket, 'dup', 'results');
    socket.send({ action: 'subscribe', id: 'dup', stream_type: 'results' });
    expect((await socket.next()).detail).toMatch(/exists already/);
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await socket.next()).detail).toMatch(/JSON text frames/);
    socket.send({ action: 'ping', id: 'p1' });
    expect(await socket.next()).toEqual({ type: 'pong', id: 'p1' });
    socket.close();
  });
});
