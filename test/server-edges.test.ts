/**
 * The HTTP server's edges against a listening server, over raw sockets: a request whose headers
 * never end and a body trickled one byte a second are cut within the configured timeouts while a
 * normal request still works; an idle keep-alive connection is closed; and what Node's parser or
 * Fastify's router refuse (URI too long, headers too large, malformed request, unknown method,
 * undecodable URL) answers in the one error shape `{"detail": …}`.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from './helpers/app.js';
import { openRaw, parseRawResponse, rawExchange } from './helpers/raw-socket.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HTTP server edges (listening server, raw sockets)', () => {
  let ctx: TestContext;
  let port: number;

  beforeAll(async () => {
    ctx = await createTestApp('sqlite', {
      env: { REQUEST_TIMEOUT_SECONDS: '3', HEADERS_TIMEOUT_SECONDS: '1', KEEP_ALIVE_TIMEOUT_SECONDS: '1', CONNECTION_TIMEOUT_SECONDS: '10' },
    });
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    port = (ctx.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('a normal request still works', async () => {
    const answer = parseRawResponse(await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
  });

  it('headers that never end are cut after HEADERS_TIMEOUT_SECONDS with a 408', async () => {
    const conversation = await openRaw(port);
    const startedAt = Date.now();
    conversation.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const { text, closedAt } = await conversation.closed;
    // 1 s timeout, checked every 0.5 s: closed well before the 3 s request timeout.
    expect(closedAt - startedAt).toBeGreaterThanOrEqual(900);
    expect(closedAt - startedAt).toBeLessThan(2800);
    const answer = parseRawResponse(text);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({ detail: 'The request did not arrive in time' });
  });

  it('a body trickled one byte a second is cut after REQUEST_TIMEOUT_SECONDS', async () => {
    const conversation = await openRaw(port);
    const startedAt = Date.now();
    conversation.socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    let open = true;
    void conversation.closed.then(() => (open = false));
    // Keeps the socket busy (so the idle timeout never fires): only the request timeout can cut it.
    for (let i = 0; i < 8 && open; i++) {
      conversation.socket.write('{');
      await sleep(1000);
    }
    const { text, closedAt } = await conversation.closed;
    expect(closedAt - startedAt).toBeGreaterThanOrEqual(2900);
    expect(closedAt - startedAt).toBeLessThan(5000);
    const answer = parseRawResponse(text);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({ detail: 'The request did not arrive in time' });
  });

  it('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_SECONDS', async () => {
    const conversation = await openRaw(port);
    const startedAt = Date.now();
    conversation.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const { text, closedAt } = await conversation.closed;
    expect(parseRawResponse(text).status).toBe(200);
    expect(closedAt - startedAt).toBeLessThan(2500);
  });

  it('414 for a URI too long, in the one error shape', async () => {
    // Over Node's 16 KiB head limit, within the request line.
    const long = parseRawResponse(await rawExchange(port, `GET /api/v1/monitors?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(long.status).toBe(414);
    expect(long.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(long.body)).toEqual({ detail: 'The request URI is too long' });
    // A path segment over the router's parameter limit.
    const segment = parseRawResponse(await rawExchange(port, `GET /api/v1/monitors/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(segment.status).toBe(414);
    expect(JSON.parse(segment.body)).toEqual({ detail: 'The request URI is too long: a path segment exceeds the length limit' });
  });

  it('431 for headers too large', async () => {
    const answer = parseRawResponse(await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ detail: 'The request headers are too large' });
  });

  it('400 for a request the HTTP parser refuses, 501 for an unknown method', async () => {
    const malformed = parseRawResponse(await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'));
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toEqual({ detail: expect.stringMatching(/^Malformed HTTP request/) });
    const unknown = parseRawResponse(await rawExchange(port, 'FROB /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(unknown.status).toBe(501);
    expect(JSON.parse(unknown.body)).toEqual({ detail: 'Unknown HTTP method' });
  });

  it('400 for a URL that does not decode', async () => {
    const answer = parseRawResponse(await rawExchange(port, 'GET /api/v1/monitors/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ detail: 'Malformed URL: a percent-encoded sequence does not decode' });
  });
});

describe('a request arriving while the server closes', () => {
  it('gets 503 in the one error shape, with Retry-After', async () => {
    const ctx = await createTestApp('sqlite');
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const conversation = await openRaw((ctx.app.server.address() as AddressInfo).port);
    // Half a head: the connection is busy, so closing waits for it.
    conversation.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    await sleep(200);
    const closed = ctx.app.close();
    await sleep(200);
    conversation.socket.write('Connection: close\r\n\r\n');
    const answer = parseRawResponse((await conversation.closed).text);
    await closed;
    await ctx.database.close();
    await ctx.testDatabase.drop();
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(JSON.parse(answer.body)).toEqual({ detail: 'Vigie is shutting down; retry in a few seconds' });
  });
});
