/** `vigie backup verify DIR`, the built CLI as a real process: a good tree, a corrupted byte, a link, no report, a usage error. */
import { mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dump, rsyncFiles, statusReport, writeStatus } from './helpers/backup-agent.js';
import { runCli, tempWorkDir } from './helpers/cli.js';

describe('vigie backup verify', () => {
  const cwd = tempWorkDir();
  afterAll(() => rm(cwd, { recursive: true, force: true }));

  it('passes a tree that matches its report and names what does not', async () => {
    const tree = join(cwd, 'agent');
    const files = [
      { path: 'shop.sql.gz', content: dump(70_000, 1) },
      { path: 'wal/000001.gz', content: dump(5_000, 2) },
    ];
    await rsyncFiles(join(cwd, 'src'), tree, 'job-1', files);
    await writeStatus(tree, statusReport('db1', [{ jobId: 'job-1', runId: 'r1', files }]));
    const ok = await runCli(['backup', 'verify', tree], { cwd });
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe('OK   job job-1 run r1: 2 file(s), 75000 bytes\n');

    const handle = await open(join(tree, 'job-1', 'wal', '000001.gz'), 'r+');
    await handle.write(Buffer.from([files[1]!.content[10]! ^ 1]), 0, 1, 10);
    await handle.close();
    const corrupted = await runCli(['backup', 'verify', tree], { cwd });
    expect(corrupted.code).toBe(1);
    expect(corrupted.stderr).toMatch(/^FAIL job job-1 run r1: wal\/000001\.gz: SHA-256 [0-9a-f]{64}, reported [0-9a-f]{64}\n$/);

    const linked = join(cwd, 'linked');
    await mkdir(join(linked, 'job-2'), { recursive: true });
    await writeFile(join(cwd, 'outside.gz'), 'x');
    await symlink(join(cwd, 'outside.gz'), join(linked, 'job-2', 'a.gz'));
    await writeStatus(linked, statusReport('db1', [{ jobId: 'job-2', runId: 'r2', files: [{ path: 'a.gz', content: Buffer.from('x') }] }]));
    expect((await runCli(['backup', 'verify', linked], { cwd })).stderr).toBe('FAIL job job-2 run r2: a.gz: is a symbolic link (refused)\n');
  });

  it('fails without a report and refuses a bad command line', async () => {
    const none = await runCli(['backup', 'verify', join(cwd, 'nothing')], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('cannot read');
    expect((await runCli(['backup', 'push'], { cwd })).code).toBe(2);
  });
});
