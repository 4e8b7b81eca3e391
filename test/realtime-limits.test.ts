/**
 * The WebSocket API's limits, on a listening server with small values from the environment:
 * ping frames every WS_PING_INTERVAL_SECONDS and a socket that answers them stays; one silent
 * for WS_IDLE_TIMEOUT_SECONDS is closed (4408); past WS_MAX_CLIENTS a socket is closed with 1013;
 * a client that stops reading is told and cut (4008) once WS_SEND_BUFFER_BYTES is passed, while
 * another client on the same stream receives every event; what is sent to a socket within the
 * write window leaves in one write.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeEvent } from '../src/realtime/topics.js';
import { eventually } from './helpers/eventually.js';
import { openSocket, startRealtimeServer, subscribe, type RealtimeServer } from './helpers/realtime.js';

describe('WebSocket limits', () => {
  let server: RealtimeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(env: Record<string, string>) {
    server = await startRealtimeServer('sqlite', { env });
    const tenant = await server.services.tenants.create({ name: 'acme' });
    const key = (await server.services.apiKeys.create(tenant.id, { name: 'read', scope: 'read-only' })).secret;
    return { s: server, tenantId: tenant.id, key };
  }

  it('pings every interval; a socket that answers stays, a silent one is closed at the idle timeout', async () => {
    const { s, key } = await start({ WS_PING_INTERVAL_SECONDS: '1', WS_IDLE_TIMEOUT_SECONDS: '2' });
    const lively = await openSocket(s.wsUrl, { headers: { 'x-api-key': key } });
    let pings = 0;
    lively.ws.on('ping', () => pings++);
    // A client that does not answer pings (autoPong off) and sends nothing.
    const silent = new WebSocket(s.wsUrl, { headers: { 'x-api-key': key }, autoPong: false });
    const silentClosed = new Promise<{ code: number; at: number }>((resolve) => silent.on('close', (code) => resolve({ code, at: Date.now() })));
    const openedAt = await new Promise<number>((resolve) => silent.on('open', () => resolve(Date.now())));
    const closed = await silentClosed;
    expect(closed.code).toBe(4408);
    expect(closed.at - openedAt).toBeGreaterThanOrEqual(1900);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(lively.ws.readyState).toBe(WebSocket.OPEN);
    lively.send({ action: 'ping' });
    expect((await lively.next()).type).toBe('pong');
    lively.close();
  });

  it('cuts a client that stops reading at the idle timeout (it answers no ping), without waiting for a close handshake it cannot do', async () => {
    const { s, tenantId, key } = await start({ WS_PING_INTERVAL_SECONDS: '1', WS_IDLE_TIMEOUT_SECONDS: '2', WS_COALESCE_MS: '0' });
    const stalled = await openSocket(s.wsUrl, { headers: { 'x-api-key': key } });
    await subscribe(stalled, 'p', 'pings');
    const raw = (stalled.ws as unknown as { _socket: Socket })._socket;
    raw.pause();
    const pausedAt = Date.now();
    // Events keep coming; the kernel's buffers take them, so the send buffer never fills.
    const publisher = setInterval(
      () => s.services.hub.publish({ topic: 'pings', tenantId, data: { monitor_id: 'm', kind: 'heartbeat', ping_kind: 'success', at: Date.now(), duration_ms: null } }),
      20,
    );
    try {
      // The slot is given back at the timeout (ws alone would wait 30 s for the close handshake).
      await eventually(() => (s.app.realtimeClients() === 0 ? true : undefined), 'the stalled client cut', 10_000, 50);
      expect(Date.now() - pausedAt).toBeLessThan(6000);
    } finally {
      clearInterval(publisher);
    }
    raw.resume();
    expect((await stalled.closed).code).toBe(4408);
  });

  it('closes the socket past WS_MAX_CLIENTS with 1013, and takes one again once a client leaves', async () => {
    const { s, key } = await start({ WS_MAX_CLIENTS: '2' });
    const headers = { 'x-api-key': key };
    const first = await openSocket(s.wsUrl, { headers });
    const second = await openSocket(s.wsUrl, { headers });
    const third = await openSocket(s.wsUrl, { headers });
    const refused = await third.closed;
    expect(refused.code).toBe(1013);
    expect(refused.reason).toMatch(/at most 2 clients/);
    first.close();
    await first.closed;
    const again = await openSocket(s.wsUrl, { headers });
    await subscribe(again, 'ok', 'pings');
    again.close();
    second.close();
  });

  it('gathers the events of a short window into one write: a burst across many event-loop turns arrives in a few TCP reads, in order', async () => {
    const { s, tenantId, key } = await start({ WS_COALESCE_MS: '0' });
    const client = await openSocket(s.wsUrl, { headers: { 'x-api-key': key } });
    await subscribe(client, 'p', 'pings');
    let reads = 0;
    (client.ws as unknown as { _socket: Socket })._socket.on('data', () => reads++);
    // One event per turn of the event loop: each is its own hub delivery, as results are.
    for (let i = 1; i <= 50; i++) {
      s.services.hub.publish({ topic: 'pings', tenantId, data: { monitor_id: `m${i}`, kind: 'heartbeat', ping_kind: 'success', at: i, duration_ms: null } });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually(() => (client.pending().length >= 50 ? true : undefined), 'the 50 events', 10_000, 5);
    expect(client.pending().map((m) => m.data.at)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Written one by one, each event was a read of its own (about 50); held for the 10 ms window, a handful.
    expect(reads).toBeLessThanOrEqual(12);
    client.close();
  });

  it('frames every size of event the client parses whole, UTF-8 included, in one window (7-bit, 16-bit and 64-bit lengths)', async () => {
    const { s, tenantId, key } = await start({ WS_COALESCE_MS: '0' });
    const client = await openSocket(s.wsUrl, { headers: { 'x-api-key': key } });
    await subscribe(client, 'p', 'pings');
    // Lengths around each boundary of the frame header (125/126, 65535/65536 bytes), in characters of 1 to 4 bytes.
    const texts = ['', 'é', 'x'.repeat(40), 'ü'.repeat(60), '€'.repeat(21_000), 'a'.repeat(65_000), '😀'.repeat(17_000), 'z'.repeat(200_000)];
    s.services.hub.publish(
      ...texts.map((text, i) => ({ topic: 'pings' as const, tenantId, data: { monitor_id: `m${i}`, kind: 'heartbeat' as const, ping_kind: text, at: i + 1, duration_ms: null } })),
    );
    await eventually(() => (client.pending().length >= texts.length ? true : undefined), 'every event', 10_000, 5);
    expect(client.pending().map((m) => [m.seq, m.data.ping_kind])).toEqual(texts.map((text, i) => [i + 1, text]));

    // A reply (sent by ws itself) asked for while events are held for the window leaves after them.
    const order: string[] = [];
    client.ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString('utf8'));
      order.push(m.type === 'pong' ? 'pong' : `event ${m.seq}`);
    });
    s.services.hub.publish(...[1, 2, 3].map((i) => ({ topic: 'pings' as const, tenantId, data: { monitor_id: `n${i}`, kind: 'heartbeat' as const, ping_kind: 'x', at: i, duration_ms: null } })));
    await new Promise((resolve) => setImmediate(resolve)); // delivered by the hub: held for the window
    client.ws.send(JSON.stringify({ action: 'ping', id: 'after' }));
    await client.next((m) => m.type === 'pong');
    await eventually(() => (order.length >= 4 ? true : undefined), 'the events', 5000, 5);
    expect(order).toEqual(['event 9', 'event 10', 'event 11', 'pong']);
    client.close();
  });

  it("counts the live feed's CPU time in /metrics (vigie_realtime_cpu_seconds_total): delivering and writing events adds to it", async () => {
    const { s, tenantId, key } = await start({ WS_COALESCE_MS: '0' });
    const counted = async () => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return Number(/^vigie_realtime_cpu_seconds_total (\S+)$/m.exec(text)?.[1]);
    };
    const client = await openSocket(s.wsUrl, { headers: { 'x-api-key': key } });
    await subscribe(client, 'p', 'pings');
    const before = await counted();
    expect(before).toBeGreaterThanOrEqual(0);
    // 20,000 events of 2 kB: tens of milliseconds of filtering, encoding and writing at the least.
    const filler = 'x'.repeat(2000);
    for (let round = 0; round < 20; round++) {
      s.services.hub.publish(
        ...Array.from({ length: 1000 }, (_, i) => ({
          topic: 'pings' as const,
          tenantId,
          data: { monitor_id: `m${i}`, kind: 'heartbeat' as const, ping_kind: filler, at: round * 1000 + i, duration_ms: null },
        })),
      );
      await eventually(() => (client.pending().length >= (round + 1) * 1000 ? true : undefined), 'the events', 10_000, 5);
    }
    const after = await counted();
    expect(after - before).toBeGreaterThan(0.01);
    client.close();
  });

  it('cuts a client that stops reading once its send buffer is full; the others get every event', async () => {
    const { s, tenantId, key } = await start({ WS_SEND_BUFFER_BYTES: '262144', WS_COALESCE_MS: '0' });
    const headers = { 'x-api-key': key };
    const reader = await openSocket(s.wsUrl, { headers });
    const stalled = await openSocket(s.wsUrl, { headers });
    await subscribe(reader, 'p', 'pings');
    await subscribe(stalled, 'p', 'pings');
    // The stalled client stops reading from its TCP socket: the server's writes pile up.
    (stalled.ws as unknown as { _socket: Socket })._socket.pause();
    const filler = 'x'.repeat(4000);
    const ping = (i: number): RealtimeEvent => ({ topic: 'pings', tenantId, data: { monitor_id: `m${i}`, kind: 'heartbeat', ping_kind: filler, at: i, duration_ms: null } });
    let sent = 0;
    let received = 0;
    reader.ws.on('message', () => received++);
    // Enough to fill the kernel's buffers and then the server's: rounds until the server lets go.
    for (let round = 0; round < 40 && s.app.realtimeClients() === 2; round++) {
      s.services.hub.publish(...Array.from({ length: 500 }, () => ping(sent++)));
      await eventually(() => (received >= sent ? true : undefined), 'the reading client keeps up', 10_000, 5);
    }
    expect(s.app.realtimeClients()).toBe(1);
    // Resumed at once, the stalled client reads what was in flight, then why it was cut.
    (stalled.ws as unknown as { _socket: Socket })._socket.resume();
    const told = await stalled.next((m) => m.type === 'error', 10_000);
    expect(told).toMatchObject({ code: 'slow_consumer' });
    expect(told.detail).toMatch(/send buffer over 262144 bytes/);
    expect((await stalled.closed).code).toBe(4008);
    expect(received).toBe(sent);
    // The reading client got them all, in order, without a gap.
    const seqs = reader.pending().map((m) => m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    reader.close();
  });
});
