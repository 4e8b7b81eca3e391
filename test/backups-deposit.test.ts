/**
 * The HTTP deposit (issue 16) on every dialect: files uploaded with PUT (streamed, hashed on the
 * way) and the run reported with POST land as an rsync deposit would, and the real scanner
 * validates and promotes them; a wrong hash, an oversized body (by Content-Length and while it
 * streams), and refused names leave nothing behind; scopes, tenants, schema errors, processed and
 * waiting runs; reports of several jobs of one agent, also concurrent, are merged into one
 * STATUS.json.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSha256 } from '../src/kinds/backup/status-report.js';
import { REFUSAL_LINGER_MS } from '../src/http/long-upload.js';
import type { Zones } from '../src/kinds/backup/paths.js';
import { createTenantWithKey, type TenantFixture, type TestContext } from './helpers/app.js';
import { filesUnder, openBackupApp, type BackupApp } from './helpers/backup-app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { dump, sha256 } from './helpers/backup-agent.js';

const MAX_BYTES = 300_000;
/** Short, so that an upload outliving it is quick to show. */
const REQUEST_TIMEOUT_S = 2;

const times = { started_at: '2026-12-05T02:00:00Z', finished_at: '2026-12-05T02:09:41Z' };
function reportOf(files: { path: string; content: Buffer }[], extra: Record<string, unknown> = {}) {
  const manifest = files.map((f) => ({ path: f.path, size: f.content.length, sha256: sha256(f.content) }));
  return { status: 'success', message: 'pg_dump ok', log_tail: 'done', ...times, files: manifest, manifest_sha256: manifestSha256(manifest), ...extra };
}

describe.each(TEST_DIALECTS)('HTTP backup deposit on %s', (dialect) => {
  let app: BackupApp;
  let ctx: TestContext;
  let tenant: TenantFixture;
  let ingestKey: string;
  let root: string;
  let zones: Zones;

  beforeAll(async () => {
    app = await openBackupApp(dialect, 'deposit', {
      BACKUP_UPLOAD_MAX_BYTES: String(MAX_BYTES),
      REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_S),
      HEADERS_TIMEOUT_SECONDS: '1',
    });
    ({ ctx, tenant, root, zones } = app);
    ingestKey = (await ctx.services.apiKeys.create(tenant.tenantId, { name: 'agent', scope: 'ingest' })).secret;
  });
  afterAll(() => app.close());

  const scanner = () => app.scanner();
  const newJob = (agent?: string) => app.newJob(agent === undefined ? {} : { agent });
  const put = (jobId: string, runId: string, path: string, body: Buffer, headers: Record<string, string> = {}, key = ingestKey) =>
    ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/backup-jobs/${jobId}/runs/${runId}/files/${path}`,
      headers: { 'x-api-key': key, 'content-type': 'application/octet-stream', 'x-content-sha256': sha256(body), ...headers },
      payload: body,
    });
  /**
   * A chunked upload (no Content-Length) on a real socket: chunks are sent until the server
   * answers, as a client streaming a file does.
   */
  async function chunkedPut(url: string, chunks: number, chunkBytes: number): Promise<{ status: number; body: string; sent: number }> {
    const address = await listening();
    return new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = httpRequest(`${address}${url}`, { method: 'PUT', headers: { 'x-api-key': ingestKey, 'x-content-sha256': '0'.repeat(64), 'transfer-encoding': 'chunked' } }, (res) => {
        answered = true;
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body, sent }));
      });
      req.on('error', (error) => (answered ? undefined : reject(error)));
      const next = () => {
        if (answered || sent === chunks) return void req.end();
        sent++;
        req.write(dump(chunkBytes, sent), () => setTimeout(next, 20));
      };
      next();
    });
  }
  /** An upload on a real socket, one chunk every `everyMs`: how it ended and when. */
  async function pacedPut(url: string, chunks: Buffer[], everyMs: number): Promise<{ status: number | null; elapsedMs: number }> {
    const address = await listening();
    const startedAt = Date.now();
    const expected = sha256(Buffer.concat(chunks));
    return new Promise((resolve) => {
      const req = httpRequest(`${address}${url}`, { method: 'PUT', headers: { 'x-api-key': ingestKey, 'x-content-sha256': expected, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, elapsedMs: Date.now() - startedAt }));
      });
      req.on('error', () => resolve({ status: null, elapsedMs: Date.now() - startedAt }));
      let sent = 0;
      const next = () => {
        if (req.destroyed) return;
        if (sent === chunks.length) return void req.end();
        req.write(chunks[sent++]!, () => setTimeout(next, everyMs));
      };
      next();
    });
  }

  it('an upload longer than REQUEST_TIMEOUT_SECONDS goes on while it progresses; a trickle is cut and leaves nothing', async () => {
    const job = await newJob();
    // 60 chunks of 4 KiB every 80 ms: about 5 s at 50 KB/s, past the 2 s request timeout.
    const chunks = Array.from({ length: 60 }, (_, n) => dump(4096, n + 1));
    const slow = await pacedPut(`/api/v1/backup-jobs/${job.id}/runs/run-slow/files/dump.sql.gz`, chunks, 80);
    expect(slow.elapsedMs).toBeGreaterThan(REQUEST_TIMEOUT_S * 1000);
    expect(slow.status).toBe(201);
    expect(await readFile(join(job.depositPath, 'dump.sql.gz'))).toEqual(Buffer.concat(chunks));

    // 100 bytes every 250 ms (400 B/s, under the 1 KiB/s floor): cut at the end of a window, nothing kept.
    const trickle = Array.from({ length: 60 }, (_, n) => dump(100, n + 1));
    const cut = await pacedPut(`/api/v1/backup-jobs/${job.id}/runs/run-slow/files/trickle.bin`, trickle, 250);
    expect(cut.status).toBeNull();
    expect(cut.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 100);
    expect(cut.elapsedMs).toBeLessThan(3 * REQUEST_TIMEOUT_S * 1000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the handler's cleanup after the abort
    expect(await filesUnder(job.depositPath)).toEqual(['dump.sql.gz']);
  });

  it('a refusal before the body is read reaches a client still sending: the rest is read and dropped a while, then the connection is cut', async () => {
    const { hostname, port } = new URL(await listening());
    const socket = connect(Number(port), hostname);
    const chunk = Buffer.alloc(64 * 1024, 1);
    let answer = '';
    let answeredAt = 0;
    let cutAt = 0;
    let sentAfterAnswer = 0;
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      answeredAt ||= Date.now();
    });
    const ended = new Promise<void>((resolve) => {
      socket.on('error', () => (cutAt ||= Date.now()));
      socket.on('end', () => (cutAt ||= Date.now()));
      socket.on('close', () => {
        cutAt ||= Date.now();
        resolve();
      });
    });
    // 1 GB announced for a job that does not exist: refused (404) at once, while the client sends on.
    socket.write(
      `PUT /api/v1/backup-jobs/${randomUUID()}/runs/r1/files/a.gz HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${ingestKey}\r\nX-Content-SHA256: ${'0'.repeat(64)}\r\nContent-Length: 1000000000\r\n\r\n`,
    );
    const startedAt = Date.now();
    while (!cutAt && Date.now() - startedAt < REFUSAL_LINGER_MS + 5000) {
      const flushed = socket.write(chunk);
      if (answeredAt) sentAfterAnswer += chunk.length;
      if (!flushed) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      else await new Promise((resolve) => setTimeout(resolve, 2));
    }
    socket.destroy();
    await ended;
    // Before this, the answer was lost: the connection was reset under a client still sending.
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    // The client went on sending well after the answer: the server read and dropped it…
    expect(sentAfterAnswer).toBeGreaterThan(10 * chunk.length);
    // …for the linger only: then the connection was cut, long before the gigabyte was read.
    expect(cutAt - answeredAt).toBeGreaterThanOrEqual(REFUSAL_LINGER_MS - 200);
    expect(cutAt - answeredAt).toBeLessThan(REFUSAL_LINGER_MS + 3000);
  });

  let address: string | undefined;
  const listening = async () => (address ??= await ctx.app.listen({ port: 0, host: '127.0.0.1' }));

  const report = (jobId: string, runId: string, payload: object, key = ingestKey) =>
    ctx.app.inject({ method: 'POST', url: `/api/v1/backup-jobs/${jobId}/runs/${runId}/report`, headers: { 'x-api-key': key }, payload });
  const runsOf = async (jobId: string) =>
    (await ctx.app.inject({ method: 'GET', url: `/api/v1/backup-jobs/${jobId}/runs`, headers: { 'x-api-key': tenant.apiKey } })).json().items as Record<string, unknown>[];

  it('an ingest key uploads files and reports the run; the scanner validates and promotes it as an rsync deposit', async () => {
    const job = await newJob();
    const files = [
      { path: 'shop-2026-12-05.sql.gz', content: dump(120_000, 1) },
      { path: 'wal/000001.gz', content: dump(5_000, 2) },
    ];
    const first = await put(job.id, 'r1', files[0]!.path, files[0]!.content);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toEqual({ path: 'shop-2026-12-05.sql.gz', size: 120_000, sha256: sha256(files[0]!.content) });
    // curl -T sends no Content-Type: taken as well.
    const second = await ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/backup-jobs/${job.id}/runs/r1/files/wal/000001.gz`,
      headers: { 'x-api-key': ingestKey, 'x-content-sha256': sha256(files[1]!.content).toUpperCase() },
      payload: files[1]!.content,
    });
    expect(second.statusCode, second.body).toBe(201);
    expect(await filesUnder(job.depositPath)).toEqual(['shop-2026-12-05.sql.gz', 'wal/000001.gz']);

    const accepted = await report(job.id, 'r1', reportOf(files));
    expect(accepted.statusCode, accepted.body).toBe(202);
    expect(accepted.json()).toMatchObject({ job_id: job.id, run_id: 'r1', file_count: 2, total_size: 125_000 });
    const status = JSON.parse(await readFile(join(job.agentRoot, 'STATUS.json'), 'utf8'));
    expect(status).toMatchObject({ schema_version: 1, agent: job.agent, jobs: [{ job_id: job.id, run_id: 'r1', status: 'success', log_tail: 'done' }] });
    expect((await readdir(job.agentRoot)).sort()).toEqual(['STATUS.json', job.id].sort());

    expect(await scanner().pass()).toEqual({ found: 1, judged: 1, promoted: 1 });
    const [run] = await runsOf(job.id);
    expect(run).toMatchObject({ run_id: 'r1', state: 'promoted', status: 'SUCCESS', measured_size: 125_000, log_tail: 'done' });
    const copy = join(zones.validatedDir, tenant.tenantId, job.agent, job.id, 'r1');
    expect(await readFile(join(copy, 'wal', '000001.gz'))).toEqual(files[1]!.content);

    // The run is closed now: its files and its report are refused.
    expect((await put(job.id, 'r1', 'late.gz', Buffer.from('late'))).statusCode).toBe(409);
    const again = await report(job.id, 'r1', reportOf(files));
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toContain('already received');
  });

  it('keeps nothing of a body whose hash differs, of one over BACKUP_UPLOAD_MAX_BYTES (declared or streamed), nor of a refused name', async () => {
    const before = await filesUnder(root);
    const job = await newJob();
    const content = dump(50_000, 3);
    const mismatch = await put(job.id, 'r1', 'shop.sql.gz', content, { 'x-content-sha256': sha256(Buffer.from('something else')) });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().detail[0]).toMatchObject({ loc: ['header', 'x-content-sha256'], type: 'hash_mismatch' });
    expect(mismatch.json().detail[0].msg).toContain(`SHA-256 of the 50000 bytes received is ${sha256(content)}`);

    const declared = await put(job.id, 'r1', 'big.gz', dump(MAX_BYTES + 1, 4));
    expect(declared.statusCode).toBe(413);
    expect(declared.json().detail).toContain('BACKUP_UPLOAD_MAX_BYTES');
    // No Content-Length (chunked): the limit is found while the body streams, and the partial file goes.
    const streamed = await chunkedPut(`/api/v1/backup-jobs/${job.id}/runs/r1/files/big.gz`, 10, 64_000);
    expect(streamed.status, streamed.body).toBe(413);
    expect(streamed.sent).toBeLessThan(10);

    const missing = await ctx.app.inject({ method: 'PUT', url: `/api/v1/backup-jobs/${job.id}/runs/r1/files/a.gz`, headers: { 'x-api-key': ingestKey }, payload: content });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail[0]).toMatchObject({ loc: ['header', 'x-content-sha256'], type: 'missing' });

    const names: [string, string][] = [
      ['a/..%2F..%2F..%2Fescaped.gz', 'climbs out'],
      ['%2Fetc%2Fescaped.gz', 'absolute path'],
      ['a%00b.gz', 'NUL'],
      ['a%01b.gz', 'control character'],
      ['.hidden.gz', 'hidden'],
      ['dir/.x/a.gz', 'hidden'],
      ['a%5Cb.gz', 'backslash'],
      ['dir//a.gz', 'empty'],
    ];
    for (const [name, problem] of names) {
      const refused = await put(job.id, 'r1', name, content);
      expect({ name, status: refused.statusCode }).toEqual({ name, status: 422 });
      expect(refused.json().detail[0].msg).toContain(problem);
    }
    expect(await filesUnder(root)).toEqual(before);
  });

  it("needs an ingest permission and answers 404 for another tenant's job, writing nothing", async () => {
    const job = await newJob();
    const content = Buffer.from('dump');
    const readOnly = (await ctx.services.apiKeys.create(tenant.tenantId, { name: 'viewer', scope: 'read-only' })).secret;
    expect((await put(job.id, 'r1', 'a.gz', content, {}, readOnly)).statusCode).toBe(403);
    expect((await report(job.id, 'r1', reportOf([{ path: 'a.gz', content }]), readOnly)).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'PUT', url: `/api/v1/backup-jobs/${job.id}/runs/r1/files/a.gz`, headers: { 'x-content-sha256': sha256(content) }, payload: content })).statusCode).toBe(401);
    const other = await createTenantWithKey(ctx, 'ingest');
    const foreign = await put(job.id, 'r1', 'a.gz', content, {}, other.apiKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ detail: 'Backup job not found' });
    expect((await report(job.id, 'r1', reportOf([{ path: 'a.gz', content }]), other.apiKey)).statusCode).toBe(404);
    // A full key has the ingest permission too.
    expect((await put(job.id, 'r1', 'a.gz', content, {}, tenant.apiKey)).statusCode).toBe(201);
    expect(await filesUnder(zones.depositDir)).not.toContain(expect.stringContaining(other.tenantId));
    expect(await readdir(zones.depositDir)).not.toContain(other.tenantId);
  });

  it('checks the report (schema, names, manifest checksum), keeps a run still waiting, and merges the jobs of one agent, also at once', async () => {
    const job = await newJob();
    const files = [{ path: 'a.gz', content: Buffer.from('dump a') }];
    const invalid = await report(job.id, 'r1', { ...reportOf(files), status: 'maybe', finished_at: 'yesterday', extra: 1 });
    expect(invalid.statusCode).toBe(422);
    const locs = (invalid.json().detail as { loc: unknown[] }[]).map((d) => d.loc.join('.'));
    expect(locs).toEqual(expect.arrayContaining(['body.status', 'body.finished_at']));
    const badName = await report(job.id, 'r1', reportOf([{ path: '../a.gz', content: Buffer.from('x') }]));
    expect(badName.json().detail).toEqual([{ loc: ['body', 'files', 0, 'path'], msg: expect.stringContaining('climbs out'), type: 'value_error' }]);
    const badManifest = await report(job.id, 'r1', { ...reportOf(files), manifest_sha256: '0'.repeat(64) });
    expect(badManifest.json().detail).toEqual([{ loc: ['body', 'manifest_sha256'], msg: expect.stringContaining(manifestSha256(reportOf(files).files)), type: 'value_error' }]);
    expect(await readdir(job.agentRoot).catch(() => [])).not.toContain('STATUS.json');

    // The same run sent twice replaces itself; another run while the first waits is a 409.
    expect((await report(job.id, 'r1', reportOf(files))).statusCode).toBe(202);
    expect((await report(job.id, 'r1', reportOf(files, { message: 'resent' }))).statusCode).toBe(202);
    const waiting = await report(job.id, 'r2', reportOf(files));
    expect(waiting.statusCode).toBe(409);
    expect(waiting.json().detail).toContain('Run r1 of this job is still waiting');

    // Eight jobs of one agent reporting at the same time: one STATUS.json lists them all.
    const jobs = await Promise.all(Array.from({ length: 8 }, () => newJob('shared-agent')));
    const answers = await Promise.all(jobs.map((j, i) => report(j.id, `run-${i}`, reportOf([{ path: `db${i}.gz`, content: Buffer.from(`db ${i}`) }]))));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(202));
    const status = JSON.parse(await readFile(join(jobs[0]!.agentRoot, 'STATUS.json'), 'utf8'));
    expect(status.agent).toBe('shared-agent');
    expect((status.jobs as { job_id: string }[]).map((j) => j.job_id).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect((await readdir(jobs[0]!.agentRoot)).filter((n) => n.startsWith('.'))).toEqual([]);
    // A STATUS.json that is not JSON is replaced by one holding the new entry.
    await writeFile(join(jobs[0]!.agentRoot, 'STATUS.json'), 'not json');
    expect((await report(jobs[0]!.id, 'run-0', reportOf([{ path: 'db0.gz', content: Buffer.from('db 0') }]))).statusCode).toBe(202);
  });
});
