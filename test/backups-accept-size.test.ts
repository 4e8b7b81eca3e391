/**
 * "Accept this size" (issue 16), on every dialect: a SIZE_ANOMALY that is the database's new normal
 * becomes the job's baseline through POST /api/v1/backup-jobs/{id}/accept-size; the job is up
 * again, the run is marked accepted, and later runs are compared with the accepted size (and the
 * healthy runs after it), not with the old median. Only the latest run, and only a SIZE_ANOMALY,
 * can be accepted (409 otherwise); another tenant's job is a 404 and a read-only key a 403.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, type TenantFixture, type TestContext } from './helpers/app.js';
import { openBackupApp, type BackupApp } from './helpers/backup-app.js';
import { deposit, dump } from './helpers/backup-agent.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const HOUR = 3_600_000;

describe.each(TEST_DIALECTS)('accepting a backup size on %s', (dialect) => {
  let app: BackupApp;
  let ctx: TestContext;
  let tenant: TenantFixture;

  beforeAll(async () => {
    app = await openBackupApp(dialect, 'accept');
    ({ ctx, tenant } = app);
  });
  afterAll(() => app.close());

  const api = (method: 'GET' | 'POST', url: string, key = tenant.apiKey, payload?: object) => ctx.app.inject({ method, url, headers: { 'x-api-key': key }, ...(payload && { payload }) });
  const pass = () => app.scanner().pass();
  const latestRun = async (jobId: string) => (await api('GET', `/api/v1/backup-jobs/${jobId}/runs?limit=1`)).json().items[0] as Record<string, unknown>;
  const stateOf = async (jobId: string) => (await api('GET', `/api/v1/backup-jobs/${jobId}`)).json().state as string;
  const newJob = () => app.newJob({ size_anomaly_percent: 50, size_anomaly_floor_bytes: 1000 });

  async function runOf(job: Awaited<ReturnType<typeof newJob>>, runId: string, size: number) {
    ctx.clock.advance(HOUR);
    await deposit(join(app.root, 'src'), job.agentRoot, job.agent, [{ jobId: job.id, runId, files: [{ path: 'db.gz', content: dump(size, size) }] }]);
    await pass();
    return latestRun(job.id);
  }

  it('makes the anomaly the new baseline: the job is up, and the next run of that size is a SUCCESS, promoted', async () => {
    const job = await newJob();
    expect(await runOf(job, 'r1', 100_000)).toMatchObject({ status: 'SUCCESS' });
    expect(await runOf(job, 'r2', 101_000)).toMatchObject({ status: 'SUCCESS' });
    expect(await runOf(job, 'r3', 20_000)).toMatchObject({ status: 'SIZE_ANOMALY', size_accepted_at: null });
    expect(await stateOf(job.id)).toBe('warning');

    const accepted = await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ id: job.id, state: 'up', size_baseline_bytes: 20_000, size_baseline_at: new Date(ctx.clock.now()).toISOString() });
    expect(await latestRun(job.id)).toMatchObject({ run_id: 'r3', status: 'SIZE_ANOMALY', size_accepted_at: new Date(ctx.clock.now()).toISOString() });
    const again = await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`);
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toMatch(/already accepted/);

    // Compared with 20 000 bytes now, not the old median of ~100 000.
    expect(await runOf(job, 'r4', 21_000)).toMatchObject({ status: 'SUCCESS', state: 'promoted' });
    expect(await stateOf(job.id)).toBe('up');
    // The old size is the anomaly from now on (median of 21 000 and 20 000).
    const back = await runOf(job, 'r5', 100_000);
    expect(back).toMatchObject({ status: 'SIZE_ANOMALY' });
    expect(back.reason).toMatch(/median of the last 2 healthy runs \(20500 bytes\)/);
  });

  it('answers 409 when the latest run is not a SIZE_ANOMALY, 404 for another tenant, 403 for a read-only key, 422 for a bad id', async () => {
    const job = await newJob();
    const none = await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`);
    expect(none.statusCode).toBe(409);
    expect(none.json().detail).toMatch(/not a SIZE_ANOMALY/);
    await runOf(job, 'a1', 50_000);
    await runOf(job, 'a2', 5_000);
    const other = await createTenantWithKey(ctx);
    expect((await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`, other.apiKey)).statusCode).toBe(404);
    const readKey = (await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' })).secret;
    expect((await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`, readKey)).statusCode).toBe(403);
    expect((await api('POST', '/api/v1/backup-jobs/not-a-uuid/accept-size')).statusCode).toBe(422);
    expect(await stateOf(job.id)).toBe('warning'); // none of those touched it
    // A newer run that is not an anomaly: the older anomaly can no longer be accepted.
    await runOf(job, 'a3', 50_500);
    const late = await api('POST', `/api/v1/backup-jobs/${job.id}/accept-size`);
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toMatch(/a3 \(SUCCESS\)/);
  });
});
