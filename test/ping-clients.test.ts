/**
 * The clients that ship with Vigie (issue 5): sendPing, monitorTask, `vigie ping` and
 * `vigie run`, against a local stand-in for the ping server that records every request and
 * answers from a queue (200 "OK" when the queue is empty).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monitorTask } from '../src/clients/monitor-task.js';
import { buildPingUrl, sendPing } from '../src/clients/ping-client.js';
import { OUTPUT_TAIL_BYTES, runCommand } from '../src/clients/run-command.js';
import { runCli, tempWorkDir } from './helpers/cli.js';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Answer = { status: number; body?: string } | 'hang';

interface StandIn {
  /** Base URL of a check, e.g. http://127.0.0.1:1234/ping/<uuid> */
  checkUrl: string;
  requests: RecordedRequest[];
  answers: Answer[];
  close(): Promise<void>;
}

const CHECK = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const RID = '6f1a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const NODE = process.execPath;

async function startStandIn(): Promise<StandIn> {
  const requests: RecordedRequest[] = [];
  const answers: Answer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.shift() ?? { status: 200, body: 'OK' };
      if (answer === 'hang') return; // never answers: the client's timeout must end the attempt
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? (answer.status === 200 ? 'OK' : 'error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    checkUrl: `http://127.0.0.1:${port}/ping/${CHECK}`,
    requests,
    answers,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The rid of a recorded request, checked to be the only query parameter. */
function ridOf(request: RecordedRequest): string {
  const url = new URL(request.url, 'http://x');
  expect([...url.searchParams.keys()]).toEqual(['rid']);
  return url.searchParams.get('rid')!;
}

function noSleep(delays: number[] = []) {
  return async (ms: number) => void delays.push(ms);
}

let standIn: StandIn;
beforeEach(async () => {
  standIn = await startStandIn();
});
afterEach(async () => {
  await standIn.close();
});

describe('buildPingUrl', () => {
  const base = `https://vigie.example/ping/${CHECK}`;

  it('appends the suffix of each kind, and rid after the query parameters already there', () => {
    expect(buildPingUrl(base)).toBe(base);
    expect(buildPingUrl(`${base}/`, 'start')).toBe(`${base}/start`);
    expect(buildPingUrl(base, 'fail')).toBe(`${base}/fail`);
    expect(buildPingUrl(base, 'log')).toBe(`${base}/log`);
    expect(buildPingUrl(base, { exit: 0 })).toBe(`${base}/0`);
    expect(buildPingUrl(base, { exit: 255 }, RID)).toBe(`${base}/255?rid=${RID}`);
    expect(buildPingUrl(`${base}?create=1&note=a%20b`, 'start', RID)).toBe(`${base}/start?create=1&note=a%20b&rid=${RID}`);
    expect(buildPingUrl(`${base}?rid=old`, 'success', RID)).toBe(`${base}?rid=${RID}`);
  });

  it('rejects bad input with a clear error', () => {
    expect(() => buildPingUrl('not a url')).toThrow('invalid ping URL "not a url"');
    expect(() => buildPingUrl('ftp://vigie.example/ping/x')).toThrow('must be http(s)');
    expect(() => buildPingUrl(base, { exit: 256 })).toThrow('exit status must be an integer from 0 to 255');
    expect(() => buildPingUrl(base, { exit: 1.5 })).toThrow('exit status must be an integer');
    expect(() => buildPingUrl(base, 'start', 'not-a-uuid')).toThrow('rid must be a UUID');
  });
});

describe('sendPing', () => {
  it('sends a GET without a body and a text/plain POST with one', async () => {
    expect(await sendPing(standIn.checkUrl)).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(await sendPing(standIn.checkUrl, { kind: { exit: 4 }, rid: RID, body: 'héllo' })).toMatchObject({ ok: true, attempts: 1 });
    const [get, post] = standIn.requests;
    expect(get).toMatchObject({ method: 'GET', url: `/ping/${CHECK}` });
    expect(get!.body.length).toBe(0);
    expect(post).toMatchObject({ method: 'POST', url: `/ping/${CHECK}/4?rid=${RID}` });
    expect(post!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(post!.body.toString('utf8')).toBe('héllo');
  });

  it('retries 503 and 429 with an exponential backoff, then succeeds', async () => {
    standIn.answers.push({ status: 503 }, { status: 429 }, { status: 503 });
    const delays: number[] = [];
    const result = await sendPing(standIn.checkUrl, { kind: 'start', rid: RID, sleep: noSleep(delays) });
    expect(result).toEqual({ ok: true, status: 200, attempts: 4 });
    expect(delays).toEqual([500, 1000, 2000]);
    expect(standIn.requests.map((r) => r.url)).toEqual(Array(4).fill(`/ping/${CHECK}/start?rid=${RID}`));
  });

  it('gives up after its retries and says why', async () => {
    standIn.answers.push({ status: 503, body: 'busy' }, { status: 503, body: 'busy' }, { status: 503, body: 'busy' });
    const result = await sendPing(standIn.checkUrl, { retries: 2, sleep: noSleep() });
    expect(result).toEqual({ ok: false, status: 503, attempts: 3, error: 'HTTP 503 busy' });
    expect(standIn.requests).toHaveLength(3);
  });

  it('does not retry a 4xx answer', async () => {
    standIn.answers.push({ status: 404, body: 'not found' });
    const result = await sendPing(standIn.checkUrl, { kind: 'fail', sleep: noSleep() });
    expect(result).toEqual({ ok: false, status: 404, attempts: 1, error: 'HTTP 404 not found' });
    expect(standIn.requests).toHaveLength(1);
  });

  it('retries network errors and attempts that get no answer in time', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (++calls === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      return fetch(input, init);
    };
    standIn.answers.push('hang');
    const result = await sendPing(standIn.checkUrl, { fetchImpl: flaky, timeoutMs: 300, sleep: noSleep() });
    expect(result).toEqual({ ok: true, status: 200, attempts: 3 });
    expect(standIn.requests).toHaveLength(2); // the first attempt never reached the server

    const refused: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    expect(await sendPing(standIn.checkUrl, { fetchImpl: refused, retries: 1, sleep: noSleep() })).toEqual({
      ok: false,
      status: null,
      attempts: 2,
      error: 'fetch failed (ECONNREFUSED)',
    });
  });
});

describe('monitorTask', () => {
  it('pings start then success with the same rid, and returns the value (arguments and this kept)', async () => {
    const task = monitorTask(standIn.checkUrl, async function (this: { factor: number }, a: number, b: number) {
      return (a + b) * this.factor;
    });
    const value = await task.call({ factor: 10 }, 2, 3);
    expect(value).toBe(50);
    const [start, end] = standIn.requests;
    expect(standIn.requests).toHaveLength(2);
    const rid = ridOf(start!);
    expect(start).toMatchObject({ method: 'GET', url: `/ping/${CHECK}/start?rid=${rid}` });
    expect(end).toMatchObject({ method: 'GET', url: `/ping/${CHECK}?rid=${rid}` });
  });

  it('pings /fail with the error message and where it happened, then rethrows the same error', async () => {
    const boom = new RangeError('disk full');
    const task = monitorTask(standIn.checkUrl, async () => {
      throw boom;
    });
    await expect(task()).rejects.toBe(boom);
    const [start, fail] = standIn.requests;
    const rid = ridOf(start!);
    expect(fail).toMatchObject({ method: 'POST', url: `/ping/${CHECK}/fail?rid=${rid}` });
    const [headline, where, ...more] = fail!.body.toString('utf8').split('\n');
    expect(headline).toBe('RangeError: disk full');
    expect(where).toMatch(/^at .*ping-clients\.test\.ts/);
    expect(more).toEqual([]);
  });

  it('reports non-Error throws as text, and gives every run its own rid', async () => {
    const task = monitorTask(standIn.checkUrl, (n: number) => {
      if (n > 1) throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error -- the point: a non-Error throw
      return n;
    });
    expect(await task(1)).toBe(1);
    await expect(task(2)).rejects.toBe('plain string');
    const [start1, , start2, fail] = standIn.requests;
    expect(ridOf(start1!)).not.toBe(ridOf(start2!));
    expect(fail!.body.toString()).toBe('plain string');
  });

  it('a failing ping never changes the task: it is reported to onPingError', async () => {
    standIn.answers.push({ status: 500 }, { status: 404 });
    const reported: string[] = [];
    const task = monitorTask(standIn.checkUrl, async () => 'done', {
      retries: 0,
      onPingError: (result, kind) => reported.push(`${typeof kind === 'string' ? kind : JSON.stringify(kind)} ${result.error}`),
    });
    expect(await task()).toBe('done');
    expect(reported).toEqual(['start HTTP 500 error', 'success HTTP 404 error']);
  });

  it('refuses a bad ping URL when wrapping', () => {
    expect(() => monitorTask('nope', async () => 1)).toThrow('invalid ping URL');
  });
});

describe('runCommand', () => {
  function sinks() {
    const out = new PassThrough();
    const err = new PassThrough();
    const text = { out: '', err: '' };
    out.on('data', (c: Buffer) => (text.out += c.toString()));
    err.on('data', (c: Buffer) => (text.err += c.toString()));
    return { stdout: out, stderr: err, text };
  }

  it('escalates to SIGKILL when the command ignores SIGTERM, and reports 124', async () => {
    const io = sinks();
    const script = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('armed'); setInterval(() => {}, 1000)";
    const status = await runCommand({ pingUrl: standIn.checkUrl, command: NODE, args: ['-e', script], timeoutSeconds: 2, killAfterMs: 200, ...io });
    expect(status).toBe(124);
    const end = standIn.requests[1]!;
    expect(end.url).toBe(`/ping/${CHECK}/124?rid=${ridOf(standIn.requests[0]!)}`);
    const body = end.body.toString();
    expect(body).toContain('armed\n');
    expect(body).toContain('vigie run: timed out after 2 s, sent SIGTERM\n');
    expect(body).toContain('ignoring SIGTERM\n');
    expect(body).toContain('vigie run: still running 0.2 s after SIGTERM, sent SIGKILL\n');
  });

  it('keeps the command status when the ping server fails, with one warning per failed ping', async () => {
    standIn.answers.push({ status: 503 }, { status: 503 }, { status: 500 }, { status: 500 });
    const io = sinks();
    const warnings: string[] = [];
    const status = await runCommand({
      pingUrl: standIn.checkUrl,
      command: NODE,
      args: ['-e', 'process.exit(0)'],
      ping: { retries: 1, sleep: noSleep() },
      warn: (line) => warnings.push(line),
      ...io,
    });
    expect(status).toBe(0);
    expect(warnings).toEqual(['vigie run: /start ping failed after 2 attempt(s): HTTP 503 error', 'vigie run: /0 ping failed after 2 attempt(s): HTTP 500 error']);
  });

  it('reports a command killed by a signal as 128 + its number, and a missing command as 127', async () => {
    const killed = await runCommand({ pingUrl: standIn.checkUrl, command: NODE, args: ['-e', "process.kill(process.pid, 'SIGKILL')"], ...sinks() });
    expect(killed).toBe(137);
    const io = sinks();
    const missing = await runCommand({ pingUrl: standIn.checkUrl, command: 'vigie-no-such-command', args: [], ...io });
    expect(missing).toBe(127);
    expect(standIn.requests.map((r) => new URL(r.url, 'http://x').pathname)).toEqual([`/ping/${CHECK}/start`, `/ping/${CHECK}/137`, `/ping/${CHECK}/start`, `/ping/${CHECK}/127`]);
    expect(standIn.requests[3]!.body.toString()).toMatch(/^vigie run: cannot run "vigie-no-such-command": spawn vigie-no-such-command ENOENT\n$/);
    expect(io.text.err).toContain('cannot run');
  });
});

describe('vigie run', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = tempWorkDir();
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('pings /start then /0 with the same rid and the output as the body, and exits 0', async () => {
    const result = await runCli(['run', '--ping-url', standIn.checkUrl, '--', NODE, '-e', "console.log('hi')"], { cwd });
    expect(result).toMatchObject({ code: 0, stdout: 'hi\n', stderr: '' });
    const [start, end] = standIn.requests;
    expect(standIn.requests).toHaveLength(2);
    const rid = ridOf(start!);
    expect(rid).toMatch(/^[0-9a-f-]{36}$/);
    expect(start).toMatchObject({ method: 'GET', url: `/ping/${CHECK}/start?rid=${rid}` });
    expect(end).toMatchObject({ method: 'POST', url: `/ping/${CHECK}/0?rid=${rid}` });
    expect(end!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(end!.body.toString()).toBe('hi\n');
  });

  it('exits with the command status and pings it, stderr included in the body', async () => {
    const result = await runCli(['run', '--ping-url', standIn.checkUrl, '--', NODE, '-e', "console.error('oops'); process.exit(3)"], { cwd });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('oops\n');
    const end = standIn.requests[1]!;
    expect(end.url).toBe(`/ping/${CHECK}/3?rid=${ridOf(standIn.requests[0]!)}`);
    expect(end.body.toString()).toBe('oops\n');
  });

  it('sends exactly the last 10,240 bytes of a longer output', async () => {
    const script = "let s = ''; for (let i = 0; i < 3000; i++) s += 'line ' + String(i).padStart(5, '0') + '\\n'; process.stdout.write(s)";
    const result = await runCli(['run', '--ping-url', standIn.checkUrl, '--', NODE, '-e', script], { cwd });
    expect(result.code).toBe(0);
    const output = Buffer.from(result.stdout);
    expect(output.length).toBe(3000 * 11);
    const body = standIn.requests[1]!.body;
    expect(body.length).toBe(OUTPUT_TAIL_BYTES);
    expect(body.equals(output.subarray(output.length - 10_240))).toBe(true);
  });

  it('stops a command that outlives --timeout, pings a failure and exits 124', async () => {
    const result = await runCli(['run', '--timeout', '1', '--ping-url', standIn.checkUrl, '--', NODE, '-e', 'setTimeout(() => {}, 10000)'], { cwd });
    expect(result.code).toBe(124);
    expect(result.stderr).toBe('vigie run: timed out after 1 s, sent SIGTERM\n');
    const end = standIn.requests[1]!;
    expect(end.url).toBe(`/ping/${CHECK}/124?rid=${ridOf(standIn.requests[0]!)}`);
    expect(end.body.toString()).toBe('vigie run: timed out after 1 s, sent SIGTERM\n');
  });

  it('needs no configuration: a broken environment and .env do not matter', async () => {
    writeFileSync(join(cwd, '.env'), 'PORT=not-a-port\nDATABASE_URL=nonsense://\n');
    const env = { PORT: 'not-a-port', DATABASE_URL: 'nonsense://', LOG_LEVEL: 'loud' };
    expect((await runCli(['run', '--ping-url', standIn.checkUrl, '--', NODE, '-e', ''], { cwd, env })).code).toBe(0);
    expect((await runCli(['ping', standIn.checkUrl], { cwd, env })).code).toBe(0);
    expect(standIn.requests).toHaveLength(3);
  });

  it('rejects bad usage with exit 2 and a usage line, before running anything', async () => {
    const cases = [
      [['run', '--', NODE, '-e', ''], 'missing --ping-url URL'],
      [['run', '--ping-url', standIn.checkUrl], 'missing the command to run'],
      [['run', '--ping-url', standIn.checkUrl, NODE], 'put the command after "--"'],
      [['run', '--ping-url', 'nope', '--', NODE], 'invalid ping URL "nope"'],
      [['run', '--timeout', 'soon', '--ping-url', standIn.checkUrl, '--', NODE], '--timeout must be a positive number of seconds, got "soon"'],
    ] as const;
    for (const [args, message] of cases) {
      const result = await runCli([...args], { cwd });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('Usage: vigie run --ping-url URL');
    }
    expect(standIn.requests).toEqual([]);
  });

  it('has --help', async () => {
    const result = await runCli(['run', '--help'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: vigie run --ping-url URL [--timeout SECONDS] -- command [args...]');
    expect(result.stdout).toContain('--timeout SECONDS');
  });
});

describe('vigie ping', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = tempWorkDir();
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('exits 0 on 2xx, silently, for each kind of ping', async () => {
    expect(await runCli(['ping', standIn.checkUrl], { cwd })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await runCli(['ping', standIn.checkUrl, '--start', '--rid', RID], { cwd })).code).toBe(0);
    expect((await runCli(['ping', standIn.checkUrl, '--fail'], { cwd })).code).toBe(0);
    expect((await runCli(['ping', standIn.checkUrl, '--log', '--body', 'disk at 91%'], { cwd })).code).toBe(0);
    expect((await runCli(['ping', standIn.checkUrl, '--exit', '7', '--rid', RID], { cwd })).code).toBe(0);
    expect(standIn.requests.map((r) => `${r.method} ${r.url} ${r.body.toString()}`.trim())).toEqual([
      `GET /ping/${CHECK}`,
      `GET /ping/${CHECK}/start?rid=${RID}`,
      `GET /ping/${CHECK}/fail`,
      `POST /ping/${CHECK}/log disk at 91%`,
      `GET /ping/${CHECK}/7?rid=${RID}`,
    ]);
  });

  it('exits 1 with one line on stderr when the server refuses, without retrying a 4xx', async () => {
    standIn.answers.push({ status: 404, body: 'not found' });
    const result = await runCli(['ping', standIn.checkUrl], { cwd });
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'vigie ping: HTTP 404 not found (after 1 attempt(s))\n' });
    expect(standIn.requests).toHaveLength(1);
  });

  it('retries a 503 (then succeeds), and exits 1 when nothing answers', async () => {
    standIn.answers.push({ status: 503 });
    expect((await runCli(['ping', standIn.checkUrl, '--retries', '1'], { cwd })).code).toBe(0);
    expect(standIn.requests).toHaveLength(2);

    const url = standIn.checkUrl;
    await standIn.close();
    const result = await runCli(['ping', url, '--retries', '0'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^vigie ping: fetch failed \(ECONNREFUSED\) \(after 1 attempt\(s\)\)\n$/);
    standIn = await startStandIn(); // for afterEach
  });

  it('rejects bad usage with exit 2 and a usage line', async () => {
    const cases = [
      [['ping'], 'vigie ping: missing URL'],
      [['ping', standIn.checkUrl, 'extra'], 'unexpected argument "extra"'],
      [['ping', standIn.checkUrl, '--fail', '--start'], '--start and --fail cannot be combined'],
      [['ping', standIn.checkUrl, '--exit', '256'], '--exit must be an integer from 0 to 255, got "256"'],
      [['ping', standIn.checkUrl, '--exit', 'x'], '--exit must be an integer from 0 to 255'],
      [['ping', standIn.checkUrl, '--rid', 'abc'], '--rid must be a UUID, got "abc"'],
      [['ping', 'ftp://host/ping/x'], 'ping URL must be http(s)'],
    ] as const;
    for (const [args, message] of cases) {
      const result = await runCli([...args], { cwd });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('Usage: vigie ping URL');
    }
    const unknown = await runCli(['ping', standIn.checkUrl, '--bogus'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(standIn.requests).toEqual([]);
  });

  it('has --help', async () => {
    const result = await runCli(['ping', '--help'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: vigie ping URL [--start|--fail|--log|--exit N] [--body TEXT]');
    for (const flag of ['--start', '--fail', '--log', '--exit N', '--body TEXT', '--rid UUID', '--retries N', '--help']) expect(result.stdout).toContain(flag);
    const top = await runCli(['--help'], { cwd });
    expect(top.stdout).toMatch(/\n {2}ping +Send one Healthchecks-compatible ping/);
    expect(top.stdout).toMatch(/\n {2}run +Run a command and report it/);
  });
});
