/**
 * The WebSocket API's authentication, on a listening server: each way in (X-API-Key, Bearer JWT,
 * Sec-WebSocket-Protocol, ?token= kept out of the logs, a first `auth` message) and each refusal
 * (bad credentials at the upgrade: 401; an ingest key: 403; a bad `auth` message: told, then
 * closed 4401/4403; nothing sent: closed when the timeout ends).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIALECTS } from './helpers/databases.js';
import { openSocket, startRealtimeServer, subscribe, type RealtimeServer } from './helpers/realtime.js';

describe.each(TEST_DIALECTS)('WebSocket authentication (%s)', (dialect) => {
  let server: RealtimeServer;
  let tenantId: string;
  let readKey: string;
  let ingestKey: string;
  let jwt: string;

  beforeAll(async () => {
    server = await startRealtimeServer(dialect, { env: { WS_IDLE_TIMEOUT_SECONDS: '1' } });
    const tenant = await server.services.tenants.create({ name: 'acme' });
    tenantId = tenant.id;
    readKey = (await server.services.apiKeys.create(tenantId, { name: 'read', scope: 'read-only' })).secret;
    ingestKey = (await server.services.apiKeys.create(tenantId, { name: 'agent', scope: 'ingest' })).secret;
    await server.services.users.create(tenantId, { email: 'viewer@example.com', password: 'correct horse battery', role: 'viewer' });
    const login = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'viewer@example.com', password: 'correct horse battery' } });
    jwt = login.json().access_token;
  });
  afterAll(async () => server.close());

  /** The socket works: a subscription is acknowledged. */
  async function works(socket: Awaited<ReturnType<typeof openSocket>>) {
    await subscribe(socket, 's1', 'monitors');
    socket.close();
  }

  it('accepts a read-only API key in X-API-Key', async () => {
    await works(await openSocket(server.wsUrl, { headers: { 'x-api-key': readKey } }));
  });

  it("accepts a user's JWT in Authorization: Bearer", async () => {
    await works(await openSocket(server.wsUrl, { headers: { authorization: `Bearer ${jwt}` } }));
  });

  it('accepts a JWT or a key in Sec-WebSocket-Protocol, beside the vigie protocol it selects', async () => {
    const socket = await openSocket(server.wsUrl, { protocols: ['vigie', `bearer.${jwt}`] });
    expect(socket.ws.protocol).toBe('vigie');
    await works(socket);
    await works(await openSocket(server.wsUrl, { protocols: ['vigie', `apikey.${readKey}`] }));
  });

  it('accepts ?token= and never writes the token to the logs', async () => {
    await works(await openSocket(`${server.wsUrl}?token=${encodeURIComponent(readKey)}`));
    await works(await openSocket(`${server.wsUrl}?token=${encodeURIComponent(jwt)}`));
    const refused = await openSocket(`${server.wsUrl}?token=vk_wrong-secret-in-the-query`).catch((error: { statusCode?: number }) => error);
    expect((refused as { statusCode?: number }).statusCode).toBe(401);
    const logs = server.logs();
    expect(logs).toContain('/api/v1/ws');
    expect(logs).not.toContain(readKey);
    expect(logs).not.toContain(jwt);
    expect(logs).not.toContain('vk_wrong-secret-in-the-query');
  });

  it('accepts a first auth message, with a token or an api_key', async () => {
    const socket = await openSocket(server.wsUrl);
    socket.send({ action: 'auth', token: jwt });
    expect(await socket.next()).toEqual({ type: 'authenticated', tenant_id: tenantId });
    await works(socket);
    const other = await openSocket(server.wsUrl);
    other.send({ action: 'auth', api_key: readKey });
    expect((await other.next()).type).toBe('authenticated');
    await works(other);
  });

  it('refuses bad credentials at the upgrade with 401, and an ingest key with 403', async () => {
    const bad = await openSocket(server.wsUrl, { headers: { 'x-api-key': 'vk_not-a-key' } }).catch((error: { statusCode?: number }) => error);
    expect((bad as { statusCode?: number }).statusCode).toBe(401);
    const badJwt = await openSocket(server.wsUrl, { protocols: ['vigie', 'bearer.not.a.jwt'] }).catch((error: { statusCode?: number }) => error);
    expect((badJwt as { statusCode?: number }).statusCode).toBe(401);
    const ingest = await openSocket(server.wsUrl, { headers: { 'x-api-key': ingestKey } }).catch((error: { statusCode?: number }) => error);
    expect((ingest as { statusCode?: number }).statusCode).toBe(403);
  });

  it('tells and closes a socket whose auth message is refused (4401), or is an ingest key (4403)', async () => {
    const bad = await openSocket(server.wsUrl);
    bad.send({ action: 'auth', api_key: 'vk_not-a-key' });
    expect((await bad.next()).type).toBe('error');
    expect((await bad.closed).code).toBe(4401);
    const ingest = await openSocket(server.wsUrl);
    ingest.send({ action: 'auth', api_key: ingestKey });
    const told = await ingest.next();
    expect(told.type).toBe('error');
    expect(told.detail).toMatch(/ingest key cannot subscribe/);
    expect((await ingest.closed).code).toBe(4403);
  });

  it('answers a plain GET (no upgrade) with 426 in the error shape, and documents the route', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/v1/ws' });
    expect(response.statusCode).toBe(426);
    expect(response.json()).toEqual({ detail: '/api/v1/ws is a WebSocket endpoint: connect with Upgrade: websocket' });
    const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/api/v1/ws'].get.description).toContain('stream_type');
  });

  it('refuses a subscription before authentication, and closes a socket that never authenticates', async () => {
    const socket = await openSocket(server.wsUrl);
    socket.send({ action: 'subscribe', id: 's1', stream_type: 'results' });
    const refused = await socket.next();
    expect(refused).toMatchObject({ type: 'error', id: 's1' });
    expect(refused.detail).toMatch(/not authenticated/);
    expect((await socket.closed).code).toBe(4401);
  });
});
