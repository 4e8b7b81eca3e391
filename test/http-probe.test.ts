/**
 * The HTTP probe and its assertions against real local servers (node:http and node:https on
 * 127.0.0.1, port 0): every status and assertion kind, timeouts, refused connections, unknown
 * hosts, self-signed and soon-to-expire certificates, redirects, what the request carries, and
 * the 1 MiB body cap. No HTTP mocks: each case is a real request over a real socket.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAssertions, readJsonPath, statusOf, type Assertion } from '../src/kinds/http/assertions.js';
import { MAX_BODY_BYTES, probeHttp, type HttpProbeTarget } from '../src/kinds/http/probe.js';

const DAY_MS = 86_400_000;

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const JSON_DOCUMENT = { status: 'ok', count: 3, items: [{ id: 7, name: 'alpha' }], nested: { flag: true, none: null } };
const BIG_PREFIX = 'NEEDLE-BEFORE-LIMIT';
const BIG_SUFFIX = 'NEEDLE-AFTER-LIMIT';

/** The test target: a few paths, each one behaviour, and a record of every request received. */
function handler(recorded: RecordedRequest[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://x');
      recorded.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.on('error', () => {}); // the probe may hang up early (body cap)
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (status) {
        response.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end(`status ${status[1]}`);
      } else if (url.pathname === '/ok') {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('hello world, all systems nominal');
      } else if (url.pathname === '/slow') {
        setTimeout(() => response.writeHead(200).end('late'), Number(url.searchParams.get('ms')));
      } else if (url.pathname === '/hang') {
        // Accepts the request and never answers.
      } else if (url.pathname === '/json') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(JSON_DOCUMENT));
      } else if (url.pathname === '/trickle') {
        // Headers at once, then part of the body, then nothing: the timeout covers the body too.
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('first part…');
      } else if (url.pathname === '/loop') {
        response.writeHead(302, { location: '/loop' }).end();
      } else if (/^\/chain\/\d+$/.test(url.pathname)) {
        // /chain/N is N redirects away from a 200.
        const left = Number(url.pathname.split('/')[2]);
        if (left === 0) response.writeHead(200).end('end of the chain');
        else response.writeHead(301, { location: `/chain/${left - 1}` }).end();
      } else if (url.pathname === '/redirect') {
        response.writeHead(302, { location: '/ok' }).end();
      } else if (url.pathname === '/big') {
        // The keyword after the first MiB must never be seen by assertions.
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write(BIG_PREFIX);
        response.write('a'.repeat(MAX_BODY_BYTES));
        response.end(BIG_SUFFIX);
      } else {
        response.writeHead(200).end('recorded');
      }
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function target(url: string, overrides: Partial<HttpProbeTarget> = {}): HttpProbeTarget {
  return {
    url,
    method: 'GET',
    expectedStatusCode: 200,
    timeoutSeconds: 10,
    followRedirects: true,
    tlsSkipVerify: false,
    headers: {},
    body: null,
    auth: null,
    assertions: [],
    ...overrides,
  };
}

const systemNow = () => Date.now();

/** Runs a probe and measures how long it took on the monotonic clock (not the probe's own clock). */
async function timed<T>(run: () => Promise<T>): Promise<{ outcome: T; elapsedMs: number }> {
  const started = performance.now();
  const outcome = await run();
  return { outcome, elapsedMs: performance.now() - started };
}

/**
 * The message alone says nothing about when the timeout fired: a 1 s timeout must end the probe
 * neither early (a timer that fires at once) nor late (one that never fires, leaving the socket to
 * end the probe). Bounds only; the upper one leaves room for a busy machine.
 */
/** A measured latency is a whole number of ms, and no more than the probe took as seen from outside. */
function expectLatencyWithin(latencyMs: number | null | undefined, elapsedMs: number): void {
  expect(latencyMs).toBeGreaterThanOrEqual(0);
  expect(latencyMs).toBeLessThanOrEqual(Math.ceil(elapsedMs));
}

function expectAboutOneSecond(elapsedMs: number): void {
  expect(elapsedMs).toBeGreaterThanOrEqual(900);
  expect(elapsedMs).toBeLessThan(3000);
}

describe('probeHttp against a local HTTP server', () => {
  const recorded: RecordedRequest[] = [];
  const server = createServer(handler(recorded));
  let base = '';

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));

  /** The requests received for one path since `from` (tests share the server). */
  const requestsTo = (path: string) => recorded.filter((r) => r.url === path);

  it('the expected status is up, with "HTTP 200 in N ms" and the latency', async () => {
    const { outcome, elapsedMs } = await timed(() => probeHttp(target(`${base}/ok`), systemNow));
    expect(outcome.status).toBe('up');
    expect(Number.isInteger(outcome.latencyMs)).toBe(true);
    expectLatencyWithin(outcome.latencyMs, elapsedMs);
    expect(outcome.value).toBe(200);
    expect(outcome.message).toBe(`HTTP 200 in ${outcome.latencyMs} ms`);
  });

  it('another status than the expected one is down and says both', async () => {
    const { outcome, elapsedMs } = await timed(() => probeHttp(target(`${base}/status/503`), systemNow));
    expect(outcome).toEqual({ status: 'down', latencyMs: outcome.latencyMs, value: 503, message: 'expected status 200, got 503' });
    expectLatencyWithin(outcome.latencyMs, elapsedMs);

    const created = await probeHttp(target(`${base}/status/201`, { expectedStatusCode: 201 }), systemNow);
    expect(created.status).toBe('up');
    expect(created.message).toBe(`HTTP 201 in ${created.latencyMs} ms`);
  });

  it('status_in takes the place of the expected status', async () => {
    const statusIn: Assertion[] = [{ type: 'status_in', values: [200, 204] }];
    const noContent = await probeHttp(target(`${base}/status/204`, { assertions: statusIn }), systemNow);
    expect(noContent.status).toBe('up');
    expect(noContent.message).toBe(`HTTP 204 in ${noContent.latencyMs} ms`);

    const unavailable = await probeHttp(target(`${base}/status/503`, { assertions: statusIn }), systemNow);
    expect(unavailable.status).toBe('down');
    expect(unavailable.message).toBe('expected status 200 or 204, got 503');

    // The expected status (200) is not checked when status_in is given.
    const expected503 = await probeHttp(target(`${base}/status/503`, { assertions: [{ type: 'status_in', values: [503] }] }), systemNow);
    expect(expected503.status).toBe('up');
    expect(expected503.message).toBe(`HTTP 503 in ${expected503.latencyMs} ms`);
  });

  it('response_time_under fails on a response slower than the limit and names both', async () => {
    const slow = await probeHttp(target(`${base}/slow?ms=300`, { assertions: [{ type: 'response_time_under', ms: 100 }] }), systemNow);
    expect(slow.status).toBe('down');
    expect(slow.value).toBe(200);
    expect(slow.message).toBe(`response took ${slow.latencyMs} ms, limit is 100 ms`);
    expect(slow.latencyMs).toBeGreaterThanOrEqual(100);

    const generous = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'response_time_under', ms: 60_000 }] }), systemNow);
    expect(generous.status).toBe('up');
  });

  it('body_contains and body_not_contains', async () => {
    const contains = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'body_contains', value: 'systems nominal' }] }), systemNow);
    expect(contains.status).toBe('up');
    const missing = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'body_contains', value: 'Welcome' }] }), systemNow);
    expect(missing).toMatchObject({ status: 'down', value: 200, message: 'body does not contain "Welcome"' });

    const absent = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'body_not_contains', value: 'error' }] }), systemNow);
    expect(absent.status).toBe('up');
    const present = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'body_not_contains', value: 'hello' }] }), systemNow);
    expect(present).toMatchObject({ status: 'down', value: 200, message: 'body contains "hello"' });
  });

  it('json_path_equals and json_path_matches, on present and missing paths and on a non-JSON body', async () => {
    const probe = (assertions: Assertion[], path = '/json') => probeHttp(target(`${base}${path}`, { assertions }), systemNow);

    expect((await probe([{ type: 'json_path_equals', path: '$.status', value: 'ok' }])).status).toBe('up');
    expect((await probe([{ type: 'json_path_equals', path: '$.items[0]', value: { id: 7, name: 'alpha' } }])).status).toBe('up');
    // JSON objects are equal whatever their key order; arrays are not.
    expect((await probe([{ type: 'json_path_equals', path: '$.items[0]', value: { name: 'alpha', id: 7 } }])).status).toBe('up');
    expect((await probe([{ type: 'json_path_equals', path: '$.items[0]', value: { name: 'alpha', id: 7, extra: null } }])).status).toBe('down');
    expect((await probe([{ type: 'json_path_equals', path: '$.nested.none', value: null }])).status).toBe('up');
    expect((await probe([{ type: 'json_path_equals', path: '$.items[0].id', value: 8 }])).message).toBe('$.items[0].id is 7, expected 8');
    expect((await probe([{ type: 'json_path_equals', path: '$.count', value: '3' }])).message).toBe('$.count is 3, expected "3"');
    expect((await probe([{ type: 'json_path_equals', path: '$.nope', value: 1 }])).message).toBe('$.nope is missing from the body');
    expect((await probe([{ type: 'json_path_equals', path: '$.items[3].id', value: 1 }])).message).toBe('$.items[3].id is missing from the body');

    expect((await probe([{ type: 'json_path_matches', path: '$.items[0].name', pattern: '^al' }])).status).toBe('up');
    expect((await probe([{ type: 'json_path_matches', path: '$.count', pattern: '^\\d+$' }])).status).toBe('up');
    const noMatch = await probe([{ type: 'json_path_matches', path: '$.items[0].name', pattern: '^z' }]);
    expect(noMatch).toMatchObject({ status: 'down', message: '$.items[0].name is "alpha", which does not match /^z/' });
    expect((await probe([{ type: 'json_path_matches', path: '$.missing', pattern: '.' }])).message).toBe('$.missing is missing from the body');

    const notJson = await probe([{ type: 'json_path_equals', path: '$.status', value: 'ok' }], '/ok');
    expect(notJson).toMatchObject({ status: 'down', value: 200, message: 'body is not JSON, cannot read $.status' });
    expect((await probe([{ type: 'json_path_matches', path: '$.status', pattern: 'ok' }], '/ok')).message).toBe('body is not JSON, cannot read $.status');
  });

  it('a JSON value nested far too deep to compare fails the assertion with a sentence, not a stack overflow', () => {
    const deep = `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const response = { status: 200, latencyMs: 5, body: deep, now: Date.now() };
    const message = '$.a is nested more than 256 levels deep, too deep to compare';
    expect(evaluateAssertions([{ type: 'json_path_equals', path: '$.a', value: [] }], response)).toEqual([{ severity: 'down', message }]);
    expect(evaluateAssertions([{ type: 'json_path_matches', path: '$.a', pattern: '.' }], response)).toEqual([{ severity: 'down', message }]);
    // 256 levels still compare.
    const ok = { ...response, body: `{"a":${'['.repeat(256)}${']'.repeat(256)}}` };
    expect(evaluateAssertions([{ type: 'json_path_equals', path: '$.a', value: JSON.parse('['.repeat(256) + ']'.repeat(256)) }], ok)).toEqual([]);
  });

  it('a failed assertion of severity warning gives a warning; one of severity down wins over it', async () => {
    const warning = await probeHttp(target(`${base}/ok`, { assertions: [{ type: 'body_contains', value: 'Welcome', severity: 'warning' }] }), systemNow);
    expect(warning).toMatchObject({ status: 'warning', value: 200, message: 'body does not contain "Welcome"' });

    const both = await probeHttp(target(`${base}/status/503`, { assertions: [{ type: 'body_contains', value: 'Welcome', severity: 'warning' }] }), systemNow);
    expect(both).toMatchObject({ status: 'down', value: 503, message: 'expected status 200, got 503; body does not contain "Welcome"' });
  });

  it('a server that never answers times out after timeout_seconds', async () => {
    const { outcome, elapsedMs } = await timed(() => probeHttp(target(`${base}/hang`, { timeoutSeconds: 1 }), systemNow));
    expect(outcome).toEqual({ status: 'down', latencyMs: null, value: null, message: 'timed out after 1 s' });
    expectAboutOneSecond(elapsedMs);
  });

  it('the timeout covers the body: headers sent, body never finished', async () => {
    const { outcome, elapsedMs } = await timed(() => probeHttp(target(`${base}/trickle`, { timeoutSeconds: 1 }), systemNow));
    expect(outcome).toEqual({ status: 'down', latencyMs: null, value: null, message: 'timed out after 1 s' });
    expectAboutOneSecond(elapsedMs);
  });

  it('a redirect loop, and a chain of more than 10 redirects, say so', async () => {
    const before = requestsTo('/loop').length;
    const loop = await probeHttp(target(`${base}/loop`), systemNow);
    expect(loop).toEqual({ status: 'down', latencyMs: null, value: null, message: 'redirect loop: the server redirects to a URL already visited' });
    expect(requestsTo('/loop').length - before).toBe(1);

    const ten = await probeHttp(target(`${base}/chain/10`), systemNow);
    expect(ten).toMatchObject({ status: 'up', value: 200 });
    expect(recorded.filter((r) => r.url.startsWith('/chain/')).map((r) => r.url)).toEqual(Array.from({ length: 11 }, (_, i) => `/chain/${10 - i}`));

    const { outcome: eleven, elapsedMs } = await timed(() => probeHttp(target(`${base}/chain/11`), systemNow));
    expect(eleven).toMatchObject({ status: 'down', value: 301, message: 'too many redirects (more than 10)' });
    expectLatencyWithin(eleven.latencyMs, elapsedMs);
  });

  it('a closed port is "connection refused"', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await close(closed);
    const outcome = await probeHttp(target(`http://127.0.0.1:${port}/`), systemNow);
    expect(outcome).toEqual({ status: 'down', latencyMs: null, value: null, message: 'connection refused by 127.0.0.1' });
    // By name too, where every address the name resolves to refuses.
    const byName = await probeHttp(target(`http://localhost:${port}/`), systemNow);
    expect(byName).toEqual({ status: 'down', latencyMs: null, value: null, message: 'connection refused by localhost' });
  });

  it('an unknown host is "DNS lookup failed"', async () => {
    const outcome = await probeHttp(target('http://no-such-host.invalid/'), systemNow);
    expect(outcome).toEqual({ status: 'down', latencyMs: null, value: null, message: 'DNS lookup failed for no-such-host.invalid' });
  });

  it('redirects: followed to the final status, or not followed and judged as they are', async () => {
    const followed = await probeHttp(target(`${base}/redirect`), systemNow);
    expect(followed).toMatchObject({ status: 'up', value: 200 });
    expect(followed.message).toBe(`HTTP 200 in ${followed.latencyMs} ms`);

    const followedButExpected302 = await probeHttp(target(`${base}/redirect`, { expectedStatusCode: 302 }), systemNow);
    expect(followedButExpected302).toMatchObject({ status: 'down', value: 200, message: 'expected status 302, got 200' });

    const before = requestsTo('/ok').length;
    const notFollowed = await probeHttp(target(`${base}/redirect`, { followRedirects: false, expectedStatusCode: 302 }), systemNow);
    expect(notFollowed).toMatchObject({ status: 'up', value: 302 });
    expect(notFollowed.message).toBe(`HTTP 302 in ${notFollowed.latencyMs} ms`);
    expect(requestsTo('/ok').length).toBe(before); // the Location was not fetched

    const notFollowed200 = await probeHttp(target(`${base}/redirect`, { followRedirects: false }), systemNow);
    expect(notFollowed200).toMatchObject({ status: 'down', value: 302, message: 'expected status 200, got 302' });
  });

  it('the method, headers, body and basic auth reach the server as configured', async () => {
    const outcome = await probeHttp(
      target(`${base}/echo/basic`, {
        method: 'POST',
        headers: { 'x-probe': 'vigie-42', 'content-type': 'application/json' },
        body: '{"ping":true}',
        auth: { type: 'basic', username: 'alice', password: 's3cret:pass' },
      }),
      systemNow,
    );
    expect(outcome.status).toBe('up');
    const [received] = requestsTo('/echo/basic');
    expect(requestsTo('/echo/basic')).toHaveLength(1);
    expect(received!.method).toBe('POST');
    expect(received!.body).toBe('{"ping":true}');
    expect(received!.headers['x-probe']).toBe('vigie-42');
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['content-length']).toBe('13');
    expect(received!.headers['user-agent']).toBe('Vigie uptime check');
    expect(received!.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret:pass').toString('base64')}`);
    expect(Buffer.from(received!.headers.authorization!.slice('Basic '.length), 'base64').toString()).toBe('alice:s3cret:pass');
  });

  it('bearer auth, and a GET without a body', async () => {
    await probeHttp(target(`${base}/echo/bearer`, { method: 'PUT', auth: { type: 'bearer', token: 'tok-abc.def' } }), systemNow);
    await probeHttp(target(`${base}/echo/plain`), systemNow);
    const [bearer] = requestsTo('/echo/bearer');
    expect(bearer!.method).toBe('PUT');
    expect(bearer!.headers.authorization).toBe('Bearer tok-abc.def');
    expect(bearer!.body).toBe('');
    const [plain] = requestsTo('/echo/plain');
    expect(plain!.method).toBe('GET');
    expect(plain!.headers.authorization).toBeUndefined();
    expect(plain!.body).toBe('');
  });

  it('a body past 1 MiB is cut: a keyword after the first MiB is not seen', async () => {
    const before = await probeHttp(target(`${base}/big`, { assertions: [{ type: 'body_contains', value: BIG_PREFIX }] }), systemNow);
    expect(before.status).toBe('up');

    const after = await probeHttp(target(`${base}/big`, { assertions: [{ type: 'body_contains', value: BIG_SUFFIX }] }), systemNow);
    expect(after).toMatchObject({ status: 'down', value: 200, message: `body does not contain "${BIG_SUFFIX}"` });

    const notAfter = await probeHttp(target(`${base}/big`, { assertions: [{ type: 'body_not_contains', value: BIG_SUFFIX }] }), systemNow);
    expect(notAfter.status).toBe('up');
  });
});

describe('probeHttp against a local HTTPS server with self-signed certificates', () => {
  let dir = '';
  const servers: Server[] = [];
  let shortUrl = '';
  let longUrl = '';
  let shortValidTo = 0;
  let longValidTo = 0;

  async function startHttps(days: number): Promise<{ url: string; validTo: number }> {
    const key = join(dir, `key-${days}.pem`);
    const cert = join(dir, `cert-${days}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', String(days), '-subj', '/CN=localhost', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const pem = readFileSync(cert);
    const server = createHttpsServer({ key: readFileSync(key), cert: pem }, (_request, response) => response.writeHead(200).end('secure'));
    servers.push(server);
    const port = await listen(server);
    return { url: `https://127.0.0.1:${port}/`, validTo: Date.parse(new X509Certificate(pem).validTo) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigie-tls-'));
    ({ url: shortUrl, validTo: shortValidTo } = await startHttps(3));
    ({ url: longUrl, validTo: longValidTo } = await startHttps(400));
  });

  afterAll(async () => {
    await Promise.all(servers.map(close));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a self-signed certificate is a TLS certificate error unless verification is skipped', async () => {
    const outcome = await probeHttp(target(shortUrl), systemNow);
    expect(outcome.status).toBe('down');
    expect(outcome.latencyMs).toBeNull();
    expect(outcome.value).toBeNull();
    expect(outcome.message).toMatch(/^TLS certificate error: /);
    expect(outcome.message).toBe('TLS certificate error: self-signed certificate');

    const skipped = await probeHttp(target(shortUrl, { tlsSkipVerify: true }), systemNow);
    expect(skipped.status).toBe('up');
    expect(skipped.message).toBe(`HTTP 200 in ${skipped.latencyMs} ms`);
  });

  it('certificate_valid_for 14 days fails on a certificate that expires in 3 days, naming the days left', async () => {
    const now = Date.now();
    const outcome = await probeHttp(target(shortUrl, { tlsSkipVerify: true, assertions: [{ type: 'certificate_valid_for', days: 14 }] }), () => now);
    const daysLeft = Math.floor((shortValidTo - now) / DAY_MS);
    expect([2, 3]).toContain(daysLeft);
    expect(outcome).toMatchObject({ status: 'down', value: 200, message: `certificate expires in ${daysLeft} days` });

    // Judged by the probe's clock: the same certificate, seen 5 days later, has expired.
    const later = now + 5 * DAY_MS;
    const expired = await probeHttp(target(shortUrl, { tlsSkipVerify: true, assertions: [{ type: 'certificate_valid_for', days: 1 }] }), () => later);
    const daysAgo = Math.floor((later - shortValidTo) / DAY_MS);
    expect([1, 2]).toContain(daysAgo);
    expect(expired).toMatchObject({ status: 'down', message: `certificate expired ${daysAgo} day${daysAgo === 1 ? '' : 's'} ago` });

    const warning = await probeHttp(target(shortUrl, { tlsSkipVerify: true, assertions: [{ type: 'certificate_valid_for', days: 14, severity: 'warning' }] }), () => now);
    expect(warning).toMatchObject({ status: 'warning', message: `certificate expires in ${daysLeft} days` });
  });

  it('a certificate valid 400 days passes certificate_valid_for 14 days', async () => {
    const now = Date.now();
    expect(Math.floor((longValidTo - now) / DAY_MS)).toBeGreaterThanOrEqual(399);
    const outcome = await probeHttp(target(longUrl, { tlsSkipVerify: true, assertions: [{ type: 'certificate_valid_for', days: 14 }] }), () => now);
    expect(outcome.status).toBe('up');
    expect(outcome.message).toBe(`HTTP 200 in ${outcome.latencyMs} ms`);
  });

  it('certificate_valid_for on a plain http URL says there is no certificate', async () => {
    const plain = createServer((_request, response) => response.writeHead(200).end('plain'));
    servers.push(plain);
    const port = await listen(plain);
    const outcome = await probeHttp(target(`http://127.0.0.1:${port}/`, { assertions: [{ type: 'certificate_valid_for', days: 1 }] }), systemNow);
    expect(outcome).toMatchObject({ status: 'down', value: 200, message: 'no TLS certificate to check (not an https URL)' });
  });
});

describe('readJsonPath and evaluateAssertions', () => {
  const document = { a: { b: [{ c: 1 }, { c: 'two' }] }, zero: 0, empty: '', nil: null };

  it('reads $.a.b[0].c and a.b.0.c alike, the root, and falsy values', () => {
    expect(readJsonPath(document, '$.a.b[0].c')).toEqual({ found: true, value: 1 });
    expect(readJsonPath(document, 'a.b.1.c')).toEqual({ found: true, value: 'two' });
    expect(readJsonPath(document, '$')).toEqual({ found: true, value: document });
    expect(readJsonPath(document, '$.zero')).toEqual({ found: true, value: 0 });
    expect(readJsonPath(document, '$.empty')).toEqual({ found: true, value: '' });
    expect(readJsonPath(document, '$.nil')).toEqual({ found: true, value: null });
  });

  it('a path through a missing key, a null, a scalar or past an array end is not found', () => {
    expect(readJsonPath(document, '$.x')).toEqual({ found: false });
    expect(readJsonPath(document, '$.nil.x')).toEqual({ found: false });
    expect(readJsonPath(document, '$.zero.x')).toEqual({ found: false });
    expect(readJsonPath(document, '$.a.b[2].c')).toEqual({ found: false });
    expect(readJsonPath('text', '$.length')).toEqual({ found: false });
  });

  it('inherited properties are not part of the document', () => {
    expect(readJsonPath({}, '$.constructor')).toEqual({ found: false });
    expect(readJsonPath({ a: {} }, '$.a.toString')).toEqual({ found: false });
    expect(readJsonPath({}, '$.__proto__')).toEqual({ found: false });
  });

  it('evaluateAssertions returns one sentence per failure with its severity', () => {
    const response = { status: 500, latencyMs: 250, body: '{"state":"degraded"}', now: 0 };
    const failures = evaluateAssertions(
      [
        { type: 'status_in', values: [200] },
        { type: 'response_time_under', ms: 200, severity: 'warning' },
        { type: 'response_time_under', ms: 300 },
        { type: 'json_path_equals', path: '$.state', value: 'ok', severity: 'warning' },
        { type: 'json_path_matches', path: '$.state', pattern: '^deg' },
        { type: 'body_not_contains', value: 'fatal' },
      ],
      response,
    );
    expect(failures).toEqual([
      { severity: 'down', message: 'expected status 200, got 500' },
      { severity: 'warning', message: 'response took 250 ms, limit is 200 ms' },
      { severity: 'warning', message: '$.state is "degraded", expected "ok"' },
    ]);
    expect(statusOf(failures)).toBe('down');
    expect(statusOf(failures.filter((f) => f.severity === 'warning'))).toBe('warning');
    expect(statusOf([])).toBe('up');
  });

  it('certificate days are whole days left by the given now', () => {
    const validTo = Date.UTC(2026, 0, 10, 12, 0, 0);
    const check = (now: number, days = 14) => evaluateAssertions([{ type: 'certificate_valid_for', days }], { status: 200, latencyMs: 1, body: '', certificateValidTo: validTo, now });
    expect(check(validTo - 3 * DAY_MS)).toEqual([{ severity: 'down', message: 'certificate expires in 3 days' }]);
    expect(check(validTo - 3 * DAY_MS + 1)).toEqual([{ severity: 'down', message: 'certificate expires in 2 days' }]);
    expect(check(validTo - 14 * DAY_MS)).toEqual([]);
    expect(check(validTo - DAY_MS - 1)).toEqual([{ severity: 'down', message: 'certificate expires in 1 day' }]);
    expect(check(validTo - 1)).toEqual([{ severity: 'down', message: 'certificate expires in 0 days' }]);
    expect(check(validTo, 0)).toEqual([]);
    // Once expired, the days count since the expiry: 2 days and a bit is "2 days ago", not 3.
    expect(check(validTo + 1)).toEqual([{ severity: 'down', message: 'certificate expired less than a day ago' }]);
    expect(check(validTo + DAY_MS + 1)).toEqual([{ severity: 'down', message: 'certificate expired 1 day ago' }]);
    expect(check(validTo + 2 * DAY_MS)).toEqual([{ severity: 'down', message: 'certificate expired 2 days ago' }]);
    expect(check(validTo + 2 * DAY_MS + 1)).toEqual([{ severity: 'down', message: 'certificate expired 2 days ago' }]);
  });
});
