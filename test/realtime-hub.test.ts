/**
 * The hub itself (both implementations) and events crossing two `vigie serve` processes over a
 * real Redis: a socket on one process sees what the other produced. Each run uses its own
 * channel prefix, so parallel runs on the same Redis do not see each other.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessHub, type ClosableHub } from '../src/realtime/hub.js';
import { createRedisHub } from '../src/realtime/redis-hub.js';
import type { RealtimeEvent } from '../src/realtime/topics.js';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { openSocket, subscribe } from './helpers/realtime.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const ping = (tenantId: string, n: number): RealtimeEvent => ({ topic: 'pings', tenantId, data: { monitor_id: `m${n}`, kind: 'heartbeat', ping_kind: 'success', at: n, duration_ms: null } });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('in-process hub', () => {
  it('delivers after the publisher returns, only to the tenant and topic subscribed', async () => {
    const hub = createInProcessHub();
    const got: string[] = [];
    const stop = hub.subscribe('t1', 'pings', (event) => got.push(`${event.tenantId}/${event.topic}/${(event.data as { monitor_id: string }).monitor_id}`));
    hub.subscribe('t2', 'results', () => got.push('wrong'));
    const before = Date.now();
    const first = ping('t1', 1);
    hub.publish(first, ping('t2', 2), { ...ping('t1', 3), topic: 'results' } as unknown as RealtimeEvent);
    expect(got).toEqual([]); // never inside the producer's call
    expect(first.publishedAt).toSatisfy((t: number) => t >= before && t <= Date.now()); // stamped at publish, not at delivery
    await tick();
    expect(got).toEqual(['t1/pings/m1']);
    stop();
    hub.publish(ping('t1', 4));
    await tick();
    expect(got).toEqual(['t1/pings/m1']);
  });

  it('keeps nothing for a tenant and topic nobody listens to, and bounds its buffer', async () => {
    const hub = createInProcessHub({ bufferSize: 10 });
    hub.publish(...Array.from({ length: 1000 }, (_, i) => ping('nobody', i)));
    expect(hub.dropped()).toBe(0); // not even queued
    let got = 0;
    hub.subscribe('t1', 'pings', () => got++);
    hub.publish(...Array.from({ length: 25 }, (_, i) => ping('t1', i)));
    expect(hub.dropped()).toBe(15);
    await tick();
    expect(got).toBe(10);
  });

  it("hands a listener with monitor ids only those monitors' events, alongside the listeners of all", async () => {
    const hub = createInProcessHub();
    const some: string[] = [];
    const all: string[] = [];
    const wanted = new Set(['m1', 'm3']);
    const stopSome = hub.subscribe('t1', 'pings', (event) => some.push((event.data as { monitor_id: string }).monitor_id), { monitorIds: wanted });
    const stopAll = hub.subscribe('t1', 'pings', (event) => all.push((event.data as { monitor_id: string }).monitor_id));
    hub.publish(ping('t1', 1), ping('t1', 2), ping('t1', 3), ping('t2', 1));
    await tick();
    expect(some).toEqual(['m1', 'm3']);
    expect(all).toEqual(['m1', 'm2', 'm3']);
    stopSome();
    stopAll();
    // Nobody left: the next event is not even queued (the index counted the keyed listener once).
    const first = ping('t1', 1);
    hub.publish(first);
    expect(first.publishedAt).toBeUndefined();
    await tick();
    expect(some).toEqual(['m1', 'm3']);
  });

  it('a listener that throws does not stop the others', async () => {
    const errors: unknown[] = [];
    const hub = createInProcessHub({ onListenerError: (error) => errors.push(error) });
    let got = 0;
    hub.subscribe('t1', 'pings', () => {
      throw new Error('boom');
    });
    hub.subscribe('t1', 'pings', () => got++);
    hub.publish(ping('t1', 1));
    await tick();
    expect(got).toBe(1);
    expect(errors).toHaveLength(1);
  });
});

describe.skipIf(!REDIS_URL)('Redis hub', () => {
  const hubs: ClosableHub[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  });
  const make = (prefix: string) => {
    const hub = createRedisHub({ url: REDIS_URL!, prefix });
    hubs.push(hub);
    return hub;
  };

  it('carries events between two hubs of the same prefix, per tenant and topic, and not across prefixes', async () => {
    const prefix = `test:${randomUUID()}`;
    const [a, b, stranger] = [make(prefix), make(prefix), make(`test:${randomUUID()}`)];
    const got: number[] = [];
    const strangers: number[] = [];
    const published: (number | undefined)[] = [];
    const subscription = b.subscribe('t1', 'pings', (event) => (got.push(event.data.at), published.push(event.publishedAt)));
    b.subscribe('t2', 'pings', () => got.push(-1));
    stranger.subscribe('t1', 'pings', (event) => strangers.push(event.data.at));
    await (subscription as { ready?: Promise<void> }).ready;
    await new Promise((resolve) => setTimeout(resolve, 200)); // SUBSCRIBE acknowledged
    const before = Date.now();
    a.publish(ping('t1', 1), ping('t1', 2), ping('t3', 3));
    const after = Date.now();
    await eventually(() => (got.length >= 2 ? true : undefined), 'events from the other hub', 5000, 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(got).toEqual([1, 2]);
    // Stamped by the publishing process, not on arrival: the time crosses Redis with the event.
    for (const at of published) expect(at).toSatisfy((t: number) => t >= before && t <= after);
    expect(strangers).toEqual([]);
  });
});

describe.skipIf(!REDIS_URL).each(TEST_DIALECTS)('events across two vigie serve processes over Redis (%s)', (dialect) => {
  let database: TestDatabase;
  const servers: ServeProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const cwd = tempWorkDir();
    env = { DATABASE_URL: database.url, SECRET_KEY: 'realtime-secret-realtime-secret-0123456', REDIS_URL: REDIS_URL!, REALTIME_CHANNEL_PREFIX: `test:${randomUUID()}` };
    expect((await runCli(['migrate'], { cwd, env })).code).toBe(0);
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
    servers.push(await startServe({ cwd, env }), await startServe({ cwd, env }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await database.drop();
  });

  it('a socket on one process receives the pings and flips recorded by the other', async () => {
    const [producer, listener] = servers as [ServeProcess, ServeProcess];
    const headers = { 'x-api-key': 'dev-apikey-123', 'content-type': 'application/json' };
    const socket = await openSocket(`${listener.url.replace(/^http/, 'ws')}/api/v1/ws`, { headers: { 'x-api-key': 'dev-apikey-123' } });
    await subscribe(socket, 'pings', 'pings');
    await subscribe(socket, 'states', 'monitors');
    const check = (await (await fetch(`${producer.url}/api/v3/checks/`, { method: 'POST', headers, body: JSON.stringify({ name: 'nightly', timeout: 3600, grace: 60 }) })).json()) as { uuid: string };
    // Redis SUBSCRIBE is acknowledged before `subscribed` is sent; the ping goes to the other process.
    expect((await fetch(`${producer.url}/ping/${check.uuid}/fail`)).status).toBe(200);
    const pinged = await socket.next((m) => m.subscription === 'pings', 10_000);
    expect(pinged).toMatchObject({ type: 'ping', seq: expect.any(Number), data: { ping_kind: 'fail', kind: 'heartbeat' } });
    const flipped = await socket.next((m) => m.subscription === 'states', 10_000);
    expect(flipped).toMatchObject({ type: 'monitor_state', data: { state: 'down', kind: 'heartbeat' } });
    expect(flipped.data.monitor_id).toBe(pinged.data.monitor_id);
    socket.close();
  });
});
