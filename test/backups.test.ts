/**
 * Backups (seed 001) end to end on every dialect, with real files moved by the real `rsync`: each
 * status reached for real (a healthy dump, the same dump twice, a much smaller one, a corrupted
 * byte, a truncated file, a failed agent, a run that never comes), a deposit still being written
 * left alone, path-traversal and symbolic-link attempts refused with nothing written outside the
 * zones, two scanners promoting a run once, and start-up recovery of interrupted promotions.
 */
import { mkdir, open, readdir, readFile, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newClaimOwner } from '../src/kinds/backup/claim-lease.js';
import { createMissingSweep } from '../src/kinds/backup/missing-sweep.js';
import type { Zones } from '../src/kinds/backup/paths.js';
import type { TenantFixture, TestContext } from './helpers/app.js';
import { filesUnder, openBackupApp, type BackupApp } from './helpers/backup-app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { deposit, dump, manifestOf, rsyncFiles, sha256, statusReport, writeStatus } from './helpers/backup-agent.js';

const HOUR = 3_600_000;

describe.each(TEST_DIALECTS)('backups on %s', (dialect) => {
  let app: BackupApp;
  let ctx: TestContext;
  let tenant: TenantFixture;
  let root: string;
  let zones: Zones;
  let source: string;

  beforeAll(async () => {
    app = await openBackupApp(dialect, 'backups');
    ({ ctx, tenant, root, zones } = app);
    source = join(root, 'agent-source');
  });
  afterAll(() => app.close());

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => ctx.app.inject({ method, url, headers: { 'x-api-key': tenant.apiKey }, ...(payload && { payload }) });
  /** A scanner whose wall clock runs an hour ahead: every file written is settled. */
  const scanner: BackupApp['scanner'] = (options) => app.scanner(options);
  const newJob: BackupApp['newJob'] = (settings) => app.newJob(settings);
  const runsOf = async (jobId: string, query = '') => {
    const response = await api('GET', `/api/v1/backup-jobs/${jobId}/runs${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items as Record<string, any>[];
  };
  const copies = (agent: string, jobId: string) => readdir(join(zones.validatedDir, tenant.tenantId, agent, jobId)).catch(() => [] as string[]);
  const stateOf = async (jobId: string) => (await api('GET', `/api/v1/monitors/${jobId}`)).json().state as string;

  it('validates, promotes and records a healthy dump; the same dump again is UNCHANGED; a new one replaces the old copy; a much smaller one is a SIZE_ANOMALY', async () => {
    const { id, agent, agentRoot, job } = await newJob({ size_anomaly_floor_bytes: 1000 });
    expect(job).toMatchObject({ deposit_path: join(agentRoot, id), agent_root: agentRoot, keep_healthy: 1, state: 'pending' });
    const first = dump(200_000, 1);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'r1', files: [{ path: 'shop.sql.gz', content: first }], logTail: 'pg_dump done' }]);
    const pass = scanner();
    expect(await pass.pass()).toEqual({ found: 1, judged: 1, promoted: 1 });
    const [r1] = await runsOf(id);
    expect(r1).toMatchObject({ run_id: 'r1', state: 'promoted', status: 'SUCCESS', result: 'up', expected_size: 200_000, measured_size: 200_000, log_tail: 'pg_dump done', pruned: false });
    expect(r1!.measured_sha256).toBe(r1!.expected_sha256);
    expect(await readFile(join(zones.validatedDir, tenant.tenantId, agent, id, 'r1', 'shop.sql.gz'))).toEqual(first);
    expect(await filesUnder(join(agentRoot, id))).toEqual([]); // processed deposits are cleaned up
    expect(await stateOf(id)).toBe('up');
    expect(await pass.pass()).toEqual({ found: 0, judged: 0, promoted: 0 });

    ctx.clock.advance(HOUR);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'r2', files: [{ path: 'shop.sql.gz', content: first }] }]);
    expect(await pass.pass()).toMatchObject({ found: 1, promoted: 0 });
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'r2', state: 'rejected', status: 'UNCHANGED', result: 'warning' });
    expect((await runsOf(id, '?status=HASH_MISMATCH')).map((r) => r.run_id)).toEqual(['r2']);
    expect(await stateOf(id)).toBe('warning');
    expect(await copies(agent, id)).toEqual(['r1']);

    ctx.clock.advance(HOUR);
    const third = dump(200_500, 3);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'r3', files: [{ path: 'shop.sql.gz', content: third }] }]);
    expect(await pass.pass()).toMatchObject({ found: 1, promoted: 1 });
    expect(await copies(agent, id)).toEqual(['r3']);
    expect((await runsOf(id, '?status=SUCCESS')).map((r) => [r.run_id, r.pruned])).toEqual([
      ['r3', false],
      ['r1', true],
    ]);
    expect(await stateOf(id)).toBe('up');

    ctx.clock.advance(HOUR);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'r4', files: [{ path: 'shop.sql.gz', content: dump(20_000, 4) }] }]);
    expect(await pass.pass()).toMatchObject({ found: 1, promoted: 0 });
    const r4 = (await runsOf(id))[0]!;
    expect(r4).toMatchObject({ run_id: 'r4', status: 'SIZE_ANOMALY', result: 'warning', measured_size: 20_000 });
    expect(r4.reason).toMatch(/size 20000 bytes is -90 % from the median of the last 2 healthy runs \(200250 bytes\)/);
    const quarantined = join(zones.depositDir, '.quarantine', tenant.tenantId, agent, id, 'r4');
    expect(await readFile(join(quarantined, 'REASON.txt'), 'utf8')).toContain('status: SIZE_ANOMALY');
    expect((await readFile(join(quarantined, 'shop.sql.gz'))).length).toBe(20_000);
    expect(await copies(agent, id)).toEqual(['r3']);
    expect(await stateOf(id)).toBe('warning');

    // Seed 001's routes read the same runs.
    const history = await api('GET', `/api/jobs/${id}/history?limit=2`);
    expect(history.json()).toMatchObject({ total: 4, items: [{ run_id: 'r4' }, { run_id: 'r3' }] });
    expect((await api('GET', '/api/jobs')).json().map((j: { id: string }) => j.id)).toContain(id);
    // The monitor's results are the runs' verdicts.
    const results = (await api('GET', `/api/v1/monitors/${id}/results`)).json() as { status: string; source: string }[];
    expect(results.map((r) => [r.status, r.source])).toEqual([
      ['warning', 'run'],
      ['up', 'run'],
      ['warning', 'run'],
      ['up', 'run'],
    ]);
  });

  it('a 10 % change under the floor (2.0 → 2.2 MB, floor 10 MiB, as seed 001 wants of 20 → 22 MB) is not an anomaly: both must be exceeded', async () => {
    const { id, agent, agentRoot } = await newJob({ size_anomaly_percent: 5, size_anomaly_floor_bytes: 10 * 1024 * 1024 });
    const pass = scanner();
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'a', files: [{ path: 'db.dump', content: dump(2_000_000, 7) }] }]);
    await pass.pass();
    ctx.clock.advance(HOUR);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'b', files: [{ path: 'db.dump', content: dump(2_200_000, 8) }] }]);
    await pass.pass();
    expect((await runsOf(id)).map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it('a corrupted byte and a truncated file are TRANSFER_INTEGRITY_FAILED, quarantined, and the job goes down', async () => {
    const { id, agent, agentRoot } = await newJob();
    const pass = scanner();
    const content = dump(100_000, 11);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'good', files: [{ path: 'a.gz', content }] }]);
    await pass.pass();

    ctx.clock.advance(HOUR);
    const corrupted = dump(100_000, 12);
    await rsyncFiles(source, agentRoot, id, [{ path: 'a.gz', content: corrupted }]);
    const handle = await open(join(agentRoot, id, 'a.gz'), 'r+');
    await handle.write(Buffer.from([corrupted[5000]! ^ 0xff]), 0, 1, 5000);
    await handle.close();
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'flipped', files: [{ path: 'a.gz', content: corrupted }] }]));
    await pass.pass();
    const flipped = (await runsOf(id))[0]!;
    expect(flipped).toMatchObject({ run_id: 'flipped', state: 'rejected', status: 'TRANSFER_INTEGRITY_FAILED', result: 'down', measured_size: 100_000 });
    expect(flipped.reason).toContain(`a.gz: SHA-256 `);
    expect(flipped.reason).toContain(`reported ${sha256(corrupted)}`);
    expect(await stateOf(id)).toBe('down');

    ctx.clock.advance(HOUR);
    const whole = dump(100_000, 13);
    await rsyncFiles(source, agentRoot, id, [{ path: 'a.gz', content: whole }]);
    await truncate(join(agentRoot, id, 'a.gz'), 60_000);
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'cut', files: [{ path: 'a.gz', content: whole }] }]));
    await pass.pass();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'cut', status: 'TRANSFER_INTEGRITY_FAILED', measured_size: 60_000, reason: 'a.gz: size 60000 bytes, reported 100000' });
    expect(await copies(agent, id)).toEqual(['good']);
    expect((await readFile(join(zones.depositDir, '.quarantine', tenant.tenantId, agent, id, 'cut', 'a.gz'))).length).toBe(60_000);
  });

  it("an agent's failure is FAILED, with its message and log tail in the monitor's result", async () => {
    const { id, agent, agentRoot } = await newJob();
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'f1', status: 'failure', message: 'pg_dump exited with 1', logTail: 'pg_dump: error: connection to server failed', files: [] }]);
    await scanner().pass();
    expect((await runsOf(id))[0]).toMatchObject({ status: 'FAILED', reason: 'the agent reported a failure: pg_dump exited with 1', result: 'down' });
    const [result] = (await api('GET', `/api/v1/monitors/${id}/results`)).json() as { message: string }[];
    expect(result!.message).toContain('FAILED');
    expect((await ctx.database.db.selectFrom('monitors').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state).toBe('down');
    const stored = await ctx.services.monitors.results(tenant.tenantId, id, { limit: 5 });
    expect(stored.some((r) => r.source === 'run')).toBe(true);
  });

  it('a run that never comes is MISSING once its expected time plus grace has passed, once per slot', async () => {
    const { id } = await newJob({ interval_seconds: 3600, grace_seconds: 600 });
    const sweep = createMissingSweep({ db: ctx.database.db, clock: ctx.clock, recorder: ctx.services.recorder });
    ctx.clock.advance(HOUR + 599_000);
    expect(await sweep.run()).toBe(0);
    ctx.clock.advance(2000);
    expect(await sweep.run()).toBe(1);
    expect(await sweep.run()).toBe(0);
    expect((await runsOf(id))[0]).toMatchObject({ state: 'missed', status: 'MISSING', result: 'down' });
    expect((await runsOf(id))[0]!.reason).toMatch(/^no backup by .* plus 600 s of grace$/);
    expect(await stateOf(id)).toBe('down');
    // Paused: no deadline, nothing missing.
    expect((await api('POST', `/api/v1/backup-jobs/${id}/pause`)).json()).toMatchObject({ state: 'paused', missing_at: null });
    ctx.clock.advance(10 * HOUR);
    expect(await sweep.run()).toBe(0);
    const resumed = (await api('POST', `/api/v1/backup-jobs/${id}/resume`)).json();
    expect(Date.parse(resumed.missing_at)).toBe(ctx.clock.now() + HOUR + 600_000);
  });

  it('leaves a deposit still being written: a report or a file changed within the settle time, or an rsync temporary being written', async () => {
    const { id, agent, agentRoot } = await newJob();
    const content = dump(50_000, 21);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'w1', files: [{ path: 'x.gz', content }] }]);
    const realTime = scanner({ wallNow: Date.now, settleMs: 60_000 });
    expect(await realTime.pass()).toMatchObject({ found: 0 });
    // The report is old, but the file it lists is still changing.
    const old = new Date(Date.now() - 2 * HOUR);
    await utimes(join(agentRoot, 'STATUS.json'), old, old);
    expect(await realTime.pass()).toMatchObject({ found: 0 });
    await utimes(join(agentRoot, id, 'x.gz'), old, old);
    // rsync's temporary for the next file is being written beside it.
    await writeFile(join(agentRoot, id, '.x.gz.Ab12Cd'), 'partial');
    expect(await realTime.pass()).toMatchObject({ found: 0 });
    expect(await runsOf(id)).toEqual([]);
    await utimes(join(agentRoot, id, '.x.gz.Ab12Cd'), old, old);
    expect(await realTime.pass()).toMatchObject({ found: 1, promoted: 1 });
  });

  it('refuses path traversal and symbolic links, recording why, and writes nothing outside the zones', async () => {
    const { id, agent, agentRoot } = await newJob();
    const secret = join(root, 'secret.txt');
    await writeFile(secret, 'not a backup');
    const outsideDir = join(root, 'outside');
    await mkdir(outsideDir, { recursive: true });
    await writeFile(join(outsideDir, 'inner.gz'), 'outside content');
    const before = (await filesUnder(root)).filter((f) => !f.startsWith('deposits/') && !f.startsWith('validated/'));
    const pass = scanner();

    const escape = { path: '../../../../secret.txt', size: 12, sha256: sha256('not a backup') };
    await mkdir(join(agentRoot, id), { recursive: true });
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'climb', files: [], reported: [escape] }]));
    await pass.pass();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'climb', status: 'TRANSFER_INTEGRITY_FAILED' });
    expect((await runsOf(id))[0]!.reason).toContain('path climbs out with ..');

    await symlink(secret, join(agentRoot, id, 'linked.gz'));
    ctx.clock.advance(1000);
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'link', files: [], reported: [{ path: 'linked.gz', size: 12, sha256: sha256('not a backup') }] }]));
    await pass.pass();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'link', status: 'TRANSFER_INTEGRITY_FAILED', reason: 'linked.gz: is a symbolic link (refused)' });

    await symlink(outsideDir, join(agentRoot, id, 'sub'));
    ctx.clock.advance(1000);
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'dirlink', files: [], reported: [{ path: 'sub/inner.gz', size: 15, sha256: sha256('outside content') }] }]));
    await pass.pass();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'dirlink', status: 'TRANSFER_INTEGRITY_FAILED', reason: 'sub/inner.gz: directory sub is a symbolic link (refused)' });

    ctx.clock.advance(1000);
    await writeStatus(agentRoot, statusReport(agent, [{ jobId: id, runId: 'abs', files: [], reported: [{ path: '/etc/passwd', size: 1, sha256: sha256('x') }] }]));
    await pass.pass();
    expect((await runsOf(id))[0]!.reason).toContain('absolute path');

    expect(await copies(agent, id)).toEqual([]);
    const after = (await filesUnder(root)).filter((f) => !f.startsWith('deposits/') && !f.startsWith('validated/'));
    expect(after).toEqual(before);
    expect(await readFile(secret, 'utf8')).toBe('not a backup');
    expect(await readFile(join(outsideDir, 'inner.gz'), 'utf8')).toBe('outside content');
  });

  it('deletes quarantined runs after the retention, keeping newer ones', async () => {
    const base = join(zones.depositDir, '.quarantine', tenant.tenantId, 'old-agent', '00000000-0000-4000-8000-000000000001');
    for (const run of ['old', 'new']) {
      await mkdir(join(base, run), { recursive: true });
      await writeFile(join(base, run, 'dump.gz'), 'x');
      await writeFile(join(base, run, 'REASON.txt'), 'status: FAILED');
    }
    const longAgo = new Date(Date.now() - 3 * 86_400_000);
    await utimes(join(base, 'old', 'REASON.txt'), longAgo, longAgo);
    await scanner({ quarantineRetentionMs: 2 * 86_400_000 }).pass();
    expect(await readdir(base)).toEqual(['new']);
  });

  it('records an invalid STATUS.json entry as rejected, with the schema errors', async () => {
    const { id, agent, agentRoot } = await newJob();
    const report = statusReport(agent, [{ jobId: id, runId: 'bad', files: [{ path: 'a', content: Buffer.from('a') }] }]);
    (report.jobs[0] as Record<string, unknown>).manifest_sha256 = 'not-a-hash';
    await writeStatus(agentRoot, report);
    await scanner().pass();
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ run_id: 'bad', state: 'rejected', status: 'TRANSFER_INTEGRITY_FAILED' });
    expect(run!.reason).toMatch(/^invalid STATUS\.json: \/manifest_sha256: /);
  });

  it('two scanners at once promote a run exactly once', async () => {
    const { id, agent, agentRoot } = await newJob();
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'once', files: [{ path: 'x.gz', content: dump(300_000, 31) }] }]);
    const [a, b] = await Promise.all([scanner().pass(), scanner().pass()]);
    expect(a.promoted + b.promoted).toBe(1);
    expect((await runsOf(id)).map((r) => [r.run_id, r.state])).toEqual([['once', 'promoted']]);
    expect(await copies(agent, id)).toEqual(['once']);
    const results = await ctx.database.db
      .selectFrom('check_results')
      .innerJoin('monitor_keys', 'monitor_keys.key', 'check_results.monitor_key')
      .select('check_results.at')
      .where('monitor_keys.monitor_id', '=', id)
      .execute();
    expect(results).toHaveLength(1);
  });

  it('recovers interrupted promotions at start-up: a renamed copy is finished, a staging copy is dropped and redone', async () => {
    const { id, agent, agentRoot } = await newJob();
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'p1', files: [{ path: 'x.gz', content: dump(80_000, 41) }] }]);
    await scanner().pass();

    // Killed just after the rename: the new copy is in place, the database still says promoting.
    // The "restarted" scanners below start as the crashed one's owner: start-up takes back its own claims.
    const owner = newClaimOwner();
    ctx.clock.advance(HOUR);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'p2', files: [{ path: 'x.gz', content: dump(80_100, 42) }] }]);
    const crashing = scanner({
      owner,
      onStep: (step) => {
        if (step === 'renamed') throw new Error('killed');
      },
    });
    await crashing.pass();
    expect((await runsOf(id)).map((r) => r.state)).toEqual(['promoting', 'promoted']);
    expect((await copies(agent, id)).sort()).toEqual(['p1', 'p2']);
    const restarted = scanner({ owner });
    await restarted.recover();
    expect((await runsOf(id)).map((r) => [r.run_id, r.state, r.status, r.pruned])).toEqual([
      ['p2', 'promoted', 'SUCCESS', false],
      ['p1', 'promoted', 'SUCCESS', true],
    ]);
    expect(await copies(agent, id)).toEqual(['p2']);
    expect(await filesUnder(join(agentRoot, id))).toEqual([]);

    // Killed while building the staging copy: it is dropped and the run validated again.
    ctx.clock.advance(HOUR);
    await deposit(source, agentRoot, agent, [{ jobId: id, runId: 'p3', files: [{ path: 'x.gz', content: dump(80_200, 43) }] }]);
    await scanner({
      owner,
      onStep: async (step) => {
        if (step !== 'promoting') return;
        await mkdir(join(zones.validatedDir, tenant.tenantId, agent, id, '.staging-p3'), { recursive: true });
        await writeFile(join(zones.validatedDir, tenant.tenantId, agent, id, '.staging-p3', 'x.gz'), 'half');
        throw new Error('killed');
      },
    }).pass();
    expect((await copies(agent, id)).sort()).toEqual(['.staging-p3', 'p2']);
    const again = scanner({ owner });
    await again.recover();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'p3', state: 'received' });
    expect(await copies(agent, id)).toEqual(['p2']);
    await again.pass();
    expect((await runsOf(id))[0]).toMatchObject({ run_id: 'p3', state: 'promoted' });
    expect(await copies(agent, id)).toEqual(['p3']);
    expect((await readFile(join(zones.validatedDir, tenant.tenantId, agent, id, 'p3', 'x.gz'))).length).toBe(80_200);
  });

  it('answers 422 for a bad agent name or schedule, and serves the STATUS.json schema kept in the repository', async () => {
    const badAgent = await api('POST', '/api/v1/backup-jobs', { name: 'x', agent: '../etc', database: 'db' });
    expect(badAgent.statusCode).toBe(422);
    expect(badAgent.json().detail[0]).toMatchObject({ loc: ['body', 'agent'] });
    const badCron = await api('POST', '/api/v1/backup-jobs', { name: 'x', agent: 'a1', database: 'db', schedule: 'every night' });
    expect(badCron.statusCode).toBe(422);
    expect(badCron.json().detail[0]).toMatchObject({ loc: ['body', 'schedule'] });
    const cron = await api('POST', '/api/v1/backup-jobs', { name: 'x', agent: 'a1', database: 'db', schedule: '0 2 * * *', tz: 'Europe/Paris', grace_seconds: 1800 });
    expect(cron.json()).toMatchObject({ schedule: '0 2 * * *', interval_seconds: null, tz: 'Europe/Paris' });
    const schema = await ctx.app.inject({ method: 'GET', url: '/api/v1/backups/status-schema' });
    expect(schema.statusCode).toBe(200);
    expect(schema.json()).toEqual(JSON.parse(await readFile(new URL('../schemas/status.schema.json', import.meta.url), 'utf8')));
    expect(manifestOf([{ path: 'a', content: Buffer.from('x') }])).toEqual([{ path: 'a', size: 1, sha256: sha256('x') }]);
  });
});
