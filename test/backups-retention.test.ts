/**
 * Retention of backup run history (issue 16), on every dialect: runs received longer ago than
 * BACKUP_RUN_RETENTION_DAYS are deleted by the scanner's periodic pass, but never the run behind
 * a job's current copy, nor a job's newest run (its agent may still list it), nor a run still
 * pending; the quarantine's retention (BACKUP_QUARANTINE_RETENTION_DAYS) reaches the scanner too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { scannerSettings } from '../src/kinds/backup/kind.js';
import type { ScannerOptions } from '../src/kinds/backup/scanner.js';
import type { TestContext } from './helpers/app.js';
import { openBackupApp, type BackupApp } from './helpers/backup-app.js';
import { deposit, dump } from './helpers/backup-agent.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

describe.each(TEST_DIALECTS)('backup run retention on %s', (dialect) => {
  let app: BackupApp;
  let ctx: TestContext;

  beforeAll(async () => {
    app = await openBackupApp(dialect, 'retention');
    ({ ctx } = app);
  });
  afterAll(() => app.close());

  const scanner = (options: Partial<ScannerOptions> = {}) => app.scanner(options);
  const api = (method: 'GET' | 'POST', url: string) => ctx.app.inject({ method, url, headers: { 'x-api-key': app.tenant.apiKey } });
  const runIds = async (jobId: string) => (await ctx.database.db.selectFrom('backup_runs').select('run_id').where('monitor_id', '=', jobId).orderBy('received_at').execute()).map((r) => r.run_id);
  const newJob = () => app.newJob({ size_anomaly_floor_bytes: 0, size_anomaly_percent: 10_000 });
  const run = (job: Awaited<ReturnType<typeof newJob>>, runId: string, size: number, options: { status?: 'failure' } = {}) =>
    deposit(join(app.root, 'src'), job.agentRoot, job.agent, [{ jobId: job.id, runId, ...options, files: options.status ? [] : [{ path: 'db.gz', content: dump(size, size) }] }]);

  it('deletes runs older than the retention, keeping the current copy, the newest run, and everything recent', async () => {
    const job = await newJob();
    const lonely = await newJob();
    const pass = scanner();
    await run(job, 'old-1', 10_000);
    await run(lonely, 'lonely-old', 0, { status: 'failure' });
    await pass.pass();
    ctx.clock.advance(HOUR);
    await run(job, 'old-2', 10_000); // UNCHANGED: rejected
    await pass.pass();
    ctx.clock.advance(HOUR);
    await run(job, 'old-current', 11_000); // promoted: the current copy from now on; old-1 pruned
    await pass.pass();
    ctx.clock.advance(HOUR);
    await run(job, 'old-failed', 0, { status: 'failure' });
    await pass.pass();
    expect(await runIds(job.id)).toEqual(['old-1', 'old-2', 'old-current', 'old-failed']);

    ctx.clock.advance(401 * DAY);
    await run(job, 'recent-failed', 0, { status: 'failure' });
    await pass.pass();
    expect(await runIds(job.id)).toHaveLength(5); // no retention given: nothing deleted

    const retaining = scanner({ runRetentionMs: 400 * DAY });
    await retaining.pass();
    expect(await runIds(job.id)).toEqual(['old-current', 'recent-failed']);
    expect(await runIds(lonely.id)).toEqual(['lonely-old']);
    const history = await api('GET', `/api/jobs/${job.id}/history`);
    expect(history.json()).toMatchObject({ total: 2, items: [{ run_id: 'recent-failed' }, { run_id: 'old-current', state: 'promoted', pruned: false }] });
    // The copy behind the kept run is still the size check's reference: a same-size run is SUCCESS.
    ctx.clock.advance(HOUR);
    await run(job, 'next', 11_500);
    await retaining.pass();
    expect((await api('GET', `/api/v1/backup-jobs/${job.id}/runs?limit=1`)).json().items[0]).toMatchObject({ run_id: 'next', status: 'SUCCESS' });
  });

  it("the server's scanner takes both retentions and the claim lease from the environment", () => {
    const config = loadConfig({ BACKUP_RUN_RETENTION_DAYS: '7', BACKUP_QUARANTINE_RETENTION_DAYS: '3', BACKUP_CLAIM_LEASE_SECONDS: '45' });
    expect(scannerSettings(config)).toMatchObject({ runRetentionMs: 7 * DAY, quarantineRetentionMs: 3 * DAY, leaseMs: 45_000 });
    expect(scannerSettings(loadConfig({}))).toMatchObject({ runRetentionMs: 400 * DAY, quarantineRetentionMs: 30 * DAY, leaseMs: 600_000 });
    expect(() => loadConfig({ BACKUP_RUN_RETENTION_DAYS: '0' })).toThrow(/BACKUP_RUN_RETENTION_DAYS/);
  });
});
