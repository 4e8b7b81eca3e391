/**
 * A backup run's verdict reaches a real SMTP server through the ordinary pipeline (recorder, flip,
 * alert event, router, outbox, delivery): the e-mail names the job, the status, the expected and
 * measured size and hash, and the agent's log tail.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackupScanner } from '../src/kinds/backup/scanner.js';
import { manifestSha256 } from '../src/kinds/backup/status-report.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { deposit, dump, rsyncFiles, sha256, statusReport, writeStatus } from './helpers/backup-agent.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { parseMail, startSmtpCapture, type SmtpCapture } from './helpers/receivers.js';

describe.each(TEST_DIALECTS)('backup alerts on %s', (dialect) => {
  let ctx: TestContext;
  let smtp: SmtpCapture;
  let root: string;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    root = await mkdtemp(join(tmpdir(), 'vigie-backup-alerts-'));
    ctx = await createTestApp(dialect, {
      env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'Vigie <alerts@vigie.test>', BACKUP_DEPOSIT_DIR: join(root, 'd'), BACKUP_VALIDATED_DIR: join(root, 'v') },
    });
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
    await rm(root, { recursive: true, force: true });
  });

  it('e-mails a failed run with its log tail, then a corrupted transfer with sizes and hashes', async () => {
    const tenant = await createTenantWithKey(ctx, 'full', 'Backup Ops');
    const api = (method: 'POST' | 'PATCH', url: string, payload: object) => ctx.app.inject({ method, url, headers: { 'x-api-key': tenant.apiKey }, payload });
    expect((await api('PATCH', '/api/v1/settings', { alert_grouping_enabled: false })).statusCode).toBe(200);
    expect((await api('POST', '/api/v1/channels', { name: 'dba', kind: 'email', config: { to: ['dba@example.com'] } })).statusCode).toBe(201);
    const created = await api('POST', '/api/v1/backup-jobs', { name: 'shop nightly', agent: 'db1', database: 'shop' });
    const job = created.json() as { id: string; agent_root: string };
    const scanner = createBackupScanner({
      db: ctx.database.db,
      clock: ctx.clock,
      recorder: ctx.services.recorder,
      zones: { depositDir: join(root, 'd'), validatedDir: join(root, 'v') },
      settleMs: 1000,
      logger: { warn() {}, info() {} },
      wallNow: () => Date.now() + 3_600_000,
    });
    const deliver = async () => {
      await ctx.services.alertRouter.routeBatch();
      return ctx.services.delivery.deliverDue();
    };

    const good = dump(30_000, 1);
    await deposit(join(root, 'src'), job.agent_root, 'db1', [{ jobId: job.id, runId: 'ok', files: [{ path: 'shop.gz', content: good }] }]);
    await scanner.pass();
    ctx.clock.advance(3_600_000);
    await deposit(join(root, 'src'), job.agent_root, 'db1', [
      { jobId: job.id, runId: 'bad', status: 'failure', message: 'pg_dump exited with 1', logTail: 'pg_dump: error: FATAL: password authentication failed', files: [] },
    ]);
    await scanner.pass();
    expect(await deliver()).toBe(1);
    const failed = parseMail(smtp.received.at(-1)!.raw);
    expect(smtp.received.at(-1)!.to).toEqual(['dba@example.com']);
    expect(failed.headers.get('subject')).toBe('[Backup Ops] shop nightly (backup) is DOWN');
    expect(failed.text).toContain('Backup job "shop nightly" (db1/shop), run bad: FAILED — the agent reported a failure: pg_dump exited with 1');
    expect(failed.text).toContain('Log tail: pg_dump: error: FATAL: password authentication failed');

    // Back up, then a transfer that lost its end: the reason gives both sizes and both hashes.
    ctx.clock.advance(3_600_000);
    const next = dump(30_500, 2);
    await deposit(join(root, 'src'), job.agent_root, 'db1', [{ jobId: job.id, runId: 'ok2', files: [{ path: 'shop2.gz', content: next }] }]);
    await scanner.pass();
    expect(await deliver()).toBe(1);
    expect(parseMail(smtp.received.at(-1)!.raw).headers.get('subject')).toBe('[Backup Ops] shop nightly (backup) is UP');
    ctx.clock.advance(3_600_000);
    const third = dump(31_000, 3);
    await rsyncFiles(join(root, 'src3'), job.agent_root, job.id, [{ path: 'shop3.gz', content: third }]);
    const handle = await open(join(job.agent_root, job.id, 'shop3.gz'), 'r+');
    await handle.truncate(1000);
    await handle.close();
    await writeStatus(job.agent_root, statusReport('db1', [{ jobId: job.id, runId: 'cut', files: [{ path: 'shop3.gz', content: third }] }]));
    await scanner.pass();
    expect(await deliver()).toBe(1);
    const cut = parseMail(smtp.received.at(-1)!.raw).text;
    expect(cut).toContain('run cut: TRANSFER_INTEGRITY_FAILED — shop3.gz: size 1000 bytes, reported 31000');
    expect(cut).toContain('Size: expected 31000 bytes, measured 1000 bytes');
    expect(cut).toContain(`SHA-256 of the manifest: expected ${statusReport('db1', [{ jobId: job.id, runId: 'cut', files: [{ path: 'shop3.gz', content: third }] }]).jobs[0]!.manifest_sha256}`);
    const arrived = manifestSha256([{ path: 'shop3.gz', size: 1000, sha256: sha256(third.subarray(0, 1000)) }]);
    expect(cut).toContain(`, measured ${arrived}`);
  });
});
