/**
 * Claims with a lease (issue 16), on every dialect: a scanner renews its claim while it works on a
 * slow run, and another scanner on the same database (another process, as far as claims go) never
 * takes it, neither in its passes nor at its start-up; a claim is taken back once its lease has
 * expired, or at once when its owner is a process of this host that no longer runs, never when it
 * belongs to a live process elsewhere.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { newClaimOwner, ownerIsGone } from '../src/kinds/backup/claim-lease.js';
import { CLAIM_LEASE_MS, type ScannerOptions } from '../src/kinds/backup/scanner.js';
import type { Zones } from '../src/kinds/backup/paths.js';
import type { TenantFixture, TestContext } from './helpers/app.js';
import { openBackupApp, type BackupApp } from './helpers/backup-app.js';
import { deposit, dump } from './helpers/backup-agent.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The PID of a process that has run and exited: its owner id names a process that is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe.each(TEST_DIALECTS)('backup claim leases on %s', (dialect) => {
  let app: BackupApp;
  let ctx: TestContext;
  let tenant: TenantFixture;
  let root: string;
  let zones: Zones;

  beforeAll(async () => {
    app = await openBackupApp(dialect, 'leases');
    ({ ctx, tenant, root, zones } = app);
  });
  afterAll(() => app.close());

  const scanner = (options: Partial<ScannerOptions> = {}) => app.scanner(options);
  const runRow = (jobId: string, runId: string) => ctx.database.db.selectFrom('backup_runs').selectAll().where('monitor_id', '=', jobId).where('run_id', '=', runId).executeTakeFirstOrThrow();

  const newJob = () => app.newJob();

  /** A run left `validating` by a scanner stopped just after its claim, held by `owner` until `expiresAt`. */
  async function leftValidating(owner: string, expiresAt: number) {
    const job = await newJob();
    await deposit(join(root, 'src'), job.agentRoot, job.agent, [{ jobId: job.id, runId: 'r1', files: [{ path: 'db.gz', content: dump(50_000, 9) }] }]);
    await scanner({
      onStep: (step) => {
        if (step === 'claimed') throw new Error('stopped');
      },
    }).pass();
    await ctx.database.db.updateTable('backup_runs').set({ claim_owner: owner, claim_expires_at: expiresAt }).where('monitor_id', '=', job.id).execute();
    expect(await runRow(job.id, 'r1')).toMatchObject({ state: 'validating' });
    return job;
  }

  it('renews a claim while a slow run is validated; a second scanner neither steals it in a pass nor at its start-up', async () => {
    const job = await newJob();
    await deposit(join(root, 'src'), job.agentRoot, job.agent, [{ jobId: job.id, runId: 'slow', files: [{ path: 'db.gz', content: dump(60_000, 3) }] }]);
    const leaseMs = 300;
    let claimedAt = 0;
    let seen: Awaited<ReturnType<typeof runRow>> | undefined;
    const other = scanner({ clock: systemClock, leaseMs });
    const slow = scanner({
      clock: systemClock,
      leaseMs,
      // A file that takes five leases to hash: meanwhile the other scanner runs its start-up and a pass.
      onStep: async (step) => {
        if (step !== 'claimed') return;
        claimedAt = Date.now();
        await sleep(leaseMs * 5);
        seen = await runRow(job.id, 'slow');
        await other.recover();
        expect(await other.pass()).toMatchObject({ judged: 0, promoted: 0 });
      },
    });
    expect(await slow.pass()).toEqual({ found: 1, judged: 1, promoted: 1 });
    expect(seen).toMatchObject({ state: 'validating' });
    expect(seen!.claim_owner).toMatch(/\|\d+\|[0-9a-f-]{36}$/);
    // Renewed: the lease taken at the claim ended long before the check, yet it still held.
    expect(Number(seen!.claim_expires_at)).toBeGreaterThan(claimedAt + leaseMs * 3);
    expect(await runRow(job.id, 'slow')).toMatchObject({ state: 'promoted', status: 'SUCCESS', claim_token: null, claim_owner: null, claim_expires_at: null });
    expect(await readdir(join(zones.validatedDir, tenant.tenantId, job.agent, job.id))).toEqual(['slow']);
  });

  it("leaves a live claim of another host's process to it, and takes it back once its lease has expired", async () => {
    const elsewhere = newClaimOwner().replace(/^[^|]*/, 'another-host');
    const job = await leftValidating(elsewhere, ctx.clock.now() + CLAIM_LEASE_MS);
    expect(ownerIsGone(elsewhere)).toBe(false);
    const restarted = scanner();
    await restarted.recover();
    expect(await restarted.pass()).toMatchObject({ judged: 0 });
    expect(await runRow(job.id, 'r1')).toMatchObject({ state: 'validating', claim_owner: elsewhere });

    ctx.clock.advance(CLAIM_LEASE_MS + 1);
    expect(await restarted.pass()).toMatchObject({ judged: 1, promoted: 1 });
    expect(await runRow(job.id, 'r1')).toMatchObject({ state: 'promoted', claim_owner: null });
  });

  it('takes back at once the claim of a process of this host that is gone, but not that of a live one of this host', async () => {
    const gone = newClaimOwner().replace(/\|\d+\|([^|]+)$/, `|${await deadPid()}|$1`);
    const alive = newClaimOwner().replace(/\|\d+\|([^|]+)$/, `|${process.ppid}|$1`);
    // The previous life of this container: same host name, another PID namespace.
    const restartedContainer = newClaimOwner().replace(/^([^|]*)\|[^|]*/, '$1|pid:[1]');
    expect([ownerIsGone(gone), ownerIsGone(alive), ownerIsGone(newClaimOwner()), ownerIsGone(restartedContainer)]).toEqual([true, false, false, true]);
    // The live one first: the pass that leaves the second would take back the first were it gone.
    const liveJob = await leftValidating(alive, ctx.clock.now() + CLAIM_LEASE_MS);
    const deadJob = await leftValidating(gone, ctx.clock.now() + CLAIM_LEASE_MS);
    const restarted = scanner();
    await restarted.recover();
    expect(await runRow(deadJob.id, 'r1')).toMatchObject({ state: 'received', claim_owner: null, claim_token: null });
    expect(await runRow(liveJob.id, 'r1')).toMatchObject({ state: 'validating', claim_owner: alive });
    await restarted.pass();
    expect(await runRow(deadJob.id, 'r1')).toMatchObject({ state: 'promoted' });
    expect(await runRow(liveJob.id, 'r1')).toMatchObject({ state: 'validating' });
  });

  it('a promoting run of a live process elsewhere is left alone at start-up: its staging and copy are not pruned', async () => {
    const job = await newJob();
    await deposit(join(root, 'src'), job.agentRoot, job.agent, [{ jobId: job.id, runId: 'p1', files: [{ path: 'db.gz', content: dump(70_000, 5) }] }]);
    await scanner({
      onStep: (step) => {
        if (step === 'renamed') throw new Error('stopped');
      },
    }).pass();
    const elsewhere = newClaimOwner().replace(/^[^|]*/, 'another-host');
    await ctx.database.db
      .updateTable('backup_runs')
      .set({ claim_owner: elsewhere, claim_expires_at: ctx.clock.now() + CLAIM_LEASE_MS })
      .where('monitor_id', '=', job.id)
      .execute();
    const restarted = scanner();
    await restarted.recover();
    expect(await runRow(job.id, 'p1')).toMatchObject({ state: 'promoting' });
    expect(await readdir(join(zones.validatedDir, tenant.tenantId, job.agent, job.id))).toEqual(['p1']);
    ctx.clock.advance(CLAIM_LEASE_MS + 1);
    await restarted.pass();
    expect(await runRow(job.id, 'p1')).toMatchObject({ state: 'promoted', status: 'SUCCESS' });
  });
});
