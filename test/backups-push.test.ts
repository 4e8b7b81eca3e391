/**
 * `vigie backup push` end to end (issue 16): the built CLI as a real process against a real
 * `vigie serve` (SQLite, its own scanner): a FILE, a DIR and a log pushed over HTTP with an
 * ingest key → the scanner promotes the run → SUCCESS through the API; a corrupted upload
 * refused with nothing kept; a bad key, a server that is down, a closed run and usage errors exit
 * non-zero with one clear line; `--rsync` writes STATUS.json and prints commands that, run with
 * the real rsync, make a deposit the server promotes too.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump, sha256 } from './helpers/backup-agent.js';
import { runCli, serveApi, startServe, tempWorkDir, type ServeApi, type ServeProcess } from './helpers/cli.js';
import { eventually } from './helpers/eventually.js';

const sh = promisify(execFile);

describe('vigie backup push against vigie serve', () => {
  const cwd = tempWorkDir();
  const deposits = join(cwd, 'deposits');
  const validated = join(cwd, 'validated');
  const env = {
    DATABASE_URL: 'sqlite:./data/vigie.db',
    SECRET_KEY: 'backup-push-secret-backup-push-secret-0123',
    BACKUP_DEPOSIT_DIR: deposits,
    BACKUP_VALIDATED_DIR: validated,
    BACKUP_SCAN_SECONDS: '1',
    BACKUP_SETTLE_SECONDS: '0',
  };
  let server: ServeProcess | undefined;
  let ingestKey: string;
  let api: ServeApi;
  const newJob = async (agent: string) => api('POST', '/api/v1/backup-jobs', { name: `${agent} nightly`, agent, database: 'shop' });
  const runOf = (jobId: string, runId: string) =>
    eventually(
      async () => ((await api('GET', `/api/v1/backup-jobs/${jobId}/runs`)).items as Record<string, unknown>[]).find((r) => r.run_id === runId && (r.state === 'promoted' || r.state === 'rejected')),
      `run ${runId} judged`,
    );
  const push = (args: string[], extraEnv: Record<string, string> = {}) => runCli(['backup', 'push', ...args], { cwd, env: { VIGIE_URL: server!.url, VIGIE_API_KEY: ingestKey, ...extraEnv } });

  beforeAll(async () => {
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
    server = await startServe({ cwd, env });
    api = serveApi(server);
    ingestKey = (await api('POST', '/api/v1/api-keys', { name: 'db-host agent', scope: 'ingest' })).key;
  }, 60_000);
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await rm(cwd, { recursive: true, force: true });
  });

  it('pushes a file, a directory and a log over HTTP; the server promotes the run', async () => {
    const job = await newJob('db-host-1');
    const out = join(cwd, 'out');
    await mkdir(join(out, 'wal'), { recursive: true });
    const big = dump(17 * 1024 * 1024, 7);
    await writeFile(join(cwd, 'shop.sql.gz'), big);
    await writeFile(join(out, 'globals.sql'), 'CREATE ROLE app;');
    await writeFile(join(out, 'wal', '000001.gz'), dump(4096, 8));
    await writeFile(join(cwd, 'backup.log'), `${'noise\n'.repeat(10_000)}pg_dump: done\n`);

    const pushed = await push(['--job', job.id, '--run', 'r1', '--message', 'pg_dump ok', '--log-file', 'backup.log', 'shop.sql.gz', 'out']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain(`uploaded shop.sql.gz (${big.length} bytes, sha256 ${sha256(big)})`);
    expect(pushed.stdout).toContain('uploaded wal/000001.gz (4096 bytes');
    expect(pushed.stdout).toMatch(/reported run r1 of job .* \(success\): 3 file\(s\), \d+ bytes/);
    expect(pushed.stderr).toContain('  shop.sql.gz: 100 % (17.0 MiB of 17.0 MiB)');

    const run = await runOf(job.id, 'r1');
    expect(run).toMatchObject({ state: 'promoted', status: 'SUCCESS', agent_message: 'pg_dump ok', file_count: 3 });
    expect(run.log_tail).toMatch(/pg_dump: done\n$/);
    expect((run.log_tail as string).length).toBe(16_000);
    expect((await api('GET', `/api/v1/monitors/${job.id}`)).state).toBe('up');
    const copy = join(job.deposit_path.replace(deposits, validated) as string, 'r1');
    expect(await readFile(join(copy, 'wal', '000001.gz'))).toEqual(dump(4096, 8));
    expect(sha256(await readFile(join(copy, 'shop.sql.gz')))).toBe(sha256(big));

    // The same run again: the server says it is closed, and the push fails.
    const again = await push(['--job', job.id, '--run', 'r1', 'shop.sql.gz']);
    expect(again.code).toBe(1);
    expect(again.stderr.split('\n').at(-2)).toBe('vigie backup push: upload of shop.sql.gz refused (409): Run r1 of this job was already received and processed; a new run needs a new run_id');

    // A file far bigger than the socket buffers: the server refuses it long before the body has
    // left the client, which must still report the server's answer, not a broken connection.
    await writeFile(join(cwd, 'huge.sql.gz'), Buffer.alloc(96 * 1024 * 1024, 1));
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await push(['--job', job.id, '--run', 'r1', 'huge.sql.gz']);
      expect(refused.code).toBe(1);
      expect(refused.stderr.split('\n').at(-2)).toBe('vigie backup push: upload of huge.sql.gz refused (409): Run r1 of this job was already received and processed; a new run needs a new run_id');
    }
    await rm(join(cwd, 'huge.sql.gz'));
  }, 90_000);

  it('refuses a corrupted upload, and exits non-zero on a bad key, a server that is down and a bad command line', async () => {
    const job = await newJob('db-host-2');
    const content = Buffer.from('a dump');
    const corrupted = await fetch(`${server!.url}/api/v1/backup-jobs/${job.id}/runs/r1/files/shop.sql.gz`, {
      method: 'PUT',
      headers: { 'x-api-key': ingestKey, 'content-type': 'application/octet-stream', 'x-content-sha256': sha256('another dump') },
      body: content,
    });
    expect(corrupted.status).toBe(422);
    expect(await readdir(job.deposit_path).catch(() => [])).toEqual([]);

    await writeFile(join(cwd, 'a.sql.gz'), content);
    const badKey = await push(['--job', job.id, 'a.sql.gz'], { VIGIE_API_KEY: 'not-a-key' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^vigie backup push: upload of a\.sql\.gz refused \(401\): .+\n$/);
    const down = await push(['--job', job.id, '--url', 'http://127.0.0.1:9', 'a.sql.gz']);
    expect(down).toMatchObject({ code: 1, stderr: 'vigie backup push: upload of a.sql.gz: cannot reach http://127.0.0.1:9: ECONNREFUSED\n' });
    const otherJob = await push(['--job', '00000000-0000-4000-8000-000000000000', 'a.sql.gz']);
    expect(otherJob).toMatchObject({ code: 1, stderr: 'vigie backup push: upload of a.sql.gz refused (404): Backup job not found\n' });

    expect((await push(['a.sql.gz'])).code).toBe(2);
    expect((await push(['--job', job.id, '--status', 'maybe', 'a.sql.gz'])).stderr).toContain('--status must be success or failure');
    expect((await push(['--job', job.id])).stderr).toContain('no file to send');
    expect((await push(['--job', job.id, 'missing.gz'])).stderr).toBe('vigie backup push: missing.gz: no such file or directory\n');
    expect((await runCli(['backup', 'push', '--job', job.id, 'a.sql.gz'], { cwd })).stderr).toContain('missing --url URL (or VIGIE_URL)');
    // A failed run needs no file.
    const failed = await push(['--job', job.id, '--run', 'f1', '--status', 'failure', '--message', 'disk full']);
    expect(failed.code, failed.stderr).toBe(0);
    expect(await runOf(job.id, 'f1')).toMatchObject({ status: 'FAILED', agent_message: 'disk full' });
  }, 60_000);

  it('--rsync writes STATUS.json and prints the rsync commands; run, they make a deposit the server promotes', async () => {
    const job = await newJob('db-host-3');
    const agentRoot = job.agent_root as string;
    await mkdir(join(cwd, 'dumps'), { recursive: true });
    await writeFile(join(cwd, 'dumps', 'crm.sql.gz'), dump(10_000, 9));
    const prepared = await runCli(['backup', 'push', '--job', job.id, '--run', 'x1', '--rsync', agentRoot, '--agent', 'db-host-3', '--status-file', 'agent/STATUS.json', 'dumps/'], { cwd });
    expect(prepared.code, prepared.stderr).toBe(0);
    const commands = prepared.stdout.trim().split('\n');
    expect(commands).toEqual([`rsync -a --partial-dir=.rsync-partial -- dumps/ ${agentRoot}/${job.id}/`, `rsync -a -- ${join(cwd, 'agent', 'STATUS.json')} ${agentRoot}/STATUS.json`]);
    const status = JSON.parse(await readFile(join(cwd, 'agent', 'STATUS.json'), 'utf8'));
    expect(status).toMatchObject({ schema_version: 1, agent: 'db-host-3', jobs: [{ job_id: job.id, run_id: 'x1', files: [{ path: 'crm.sql.gz', size: 10_000 }] }] });
    expect(await readdir(join(cwd, 'agent'))).toEqual(['STATUS.json']);
    await mkdir(agentRoot, { recursive: true });
    for (const command of commands) await sh('sh', ['-c', command], { cwd });
    expect(await runOf(job.id, 'x1')).toMatchObject({ state: 'promoted', status: 'SUCCESS' });
  }, 60_000);
});
