/**
 * The promoter's and the quarantine's order of durable writes (issue 16: "fsync the files and the
 * directory, then switch it into place with an atomic rename, fsync the parent, and only then
 * remove the previous healthy copy"), read from the file-system calls they make on real files:
 * every staged file and directory is fsynced before the rename, the job directory after it, and
 * a directory that promotion creates (a job's first copy) has its parent fsynced before the
 * rename, so the first copy cannot vanish with an entry a power cut lost. A quarantined run's
 * REASON.txt and directories are fsynced before the cleanup is recorded; so are the directories
 * a promoted or unchanged run's deposited files are removed from, also when a cleanup interrupted
 * after its unlinks is done again.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quarantineDeposit, removeDeposit } from '../src/kinds/backup/deposit-cleanup.js';
import { promote, pruneJobDir } from '../src/kinds/backup/promoter.js';
import type { BackupRun } from '../src/kinds/backup/runs.repository.js';
import { validateDeposit } from '../src/kinds/backup/validator.js';
import { dump, manifestOf, rsyncFiles } from './helpers/backup-agent.js';

/** Every mkdir, rename, rm, unlink and fsync the code under test makes, in order. */
const calls: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const logged =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      calls.push(`${name} ${String(args[0])}${name === 'rename' || name === 'link' ? ` ${String(args[1])}` : ''}`);
      return fn(...args);
    };
  const open = async (...args: Parameters<typeof fs.open>) => {
    const handle = await fs.open(...args);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      calls.push(`fsync ${String(args[0])}`);
      return sync();
    };
    return handle;
  };
  const wrapped = { ...fs, open, mkdir: logged('mkdir', fs.mkdir), rename: logged('rename', fs.rename), rm: logged('rm', fs.rm), unlink: logged('unlink', fs.unlink), link: logged('link', fs.link) };
  return { ...wrapped, default: wrapped };
});

const indexOf = (call: string) => {
  const at = calls.indexOf(call);
  expect(at, `${call} in\n${calls.join('\n')}`).toBeGreaterThanOrEqual(0);
  return at;
};

describe('durable promotion, quarantine and deposit cleanup', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vigie-durable-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('fsyncs files, directories and new parents before the rename, the job directory after, and removes the old copy last', async () => {
    const deposit = join(root, 'deposits', 'tenant', 'agent');
    const files = [
      { path: 'base/db.gz', content: dump(30_000, 1) },
      { path: 'wal/0001', content: dump(5_000, 2) },
    ];
    await rsyncFiles(join(root, 'src'), deposit, 'job', files);
    const validation = await validateDeposit(join(deposit, 'job'), manifestOf(files));
    if (!validation.ok) throw new Error(validation.reason);
    const validated = join(root, 'validated');
    const jobDir = join(validated, 'tenant', 'agent', 'job');

    calls.length = 0;
    await promote({ depositDir: join(deposit, 'job'), jobDir, runId: 'r1', files: validation.files });
    const staging = join(jobDir, '.staging-r1');
    const renamed = indexOf(`rename ${staging} ${join(jobDir, 'r1')}`);
    for (const file of files) expect(indexOf(`fsync ${join(staging, file.path)}`)).toBeLessThan(renamed);
    for (const dir of [join(staging, 'base'), join(staging, 'wal'), staging]) expect(indexOf(`fsync ${dir}`)).toBeLessThan(renamed);
    // The job's directory and its parents did not exist: each new entry is made durable, before the rename.
    for (const created of [join(validated, 'tenant'), join(validated, 'tenant', 'agent'), jobDir]) expect(indexOf(`fsync ${dirname(created)}`)).toBeLessThan(renamed);
    expect(calls.lastIndexOf(`fsync ${jobDir}`)).toBeGreaterThan(renamed);
    expect(await readFile(join(jobDir, 'r1', 'wal', '0001'))).toEqual(files[1]!.content);

    // The next copy: the old one is removed only after (by the prune the scanner runs once the database says promoted), then the directory is synced.
    await rsyncFiles(join(root, 'src2'), deposit, 'job', [{ path: 'base/db2.gz', content: dump(31_000, 3) }]);
    const second = await validateDeposit(join(deposit, 'job'), manifestOf([{ path: 'base/db2.gz', content: dump(31_000, 3) }]));
    if (!second.ok) throw new Error(second.reason);
    calls.length = 0;
    await promote({ depositDir: join(deposit, 'job'), jobDir, runId: 'r2', files: second.files });
    await pruneJobDir(jobDir, new Set(['r2']));
    const swapped = indexOf(`rename ${join(jobDir, '.staging-r2')} ${join(jobDir, 'r2')}`);
    const removed = indexOf(`rm ${join(jobDir, 'r1')}`);
    expect(removed).toBeGreaterThan(calls.indexOf(`fsync ${jobDir}`, swapped));
    expect(calls.lastIndexOf(`fsync ${jobDir}`)).toBeGreaterThan(removed);
    expect(calls.some((c) => c.startsWith('fsync') && c.endsWith(dirname(jobDir)))).toBe(false); // existing parents are not synced again
  });

  it('makes a quarantined run durable: files renamed, REASON.txt written and fsynced, directories fsynced', async () => {
    const deposit = join(root, 'q-deposits', 't', 'a');
    await rsyncFiles(join(root, 'q-src'), deposit, 'job', [{ path: 'x.gz', content: dump(1000, 4) }]);
    const quarantine = join(root, 'q-deposits', '.quarantine', 't', 'a', 'job', 'bad');
    const run = { runId: 'bad', status: 'TRANSFER_INTEGRITY_FAILED', reason: 'size differs', judgedAt: 0, files: [{ path: 'x.gz', size: 1000, sha256: '0'.repeat(64) }] } as unknown as BackupRun;
    calls.length = 0;
    await quarantineDeposit(join(deposit, 'job'), quarantine, run);
    const moved = indexOf(`rename ${join(deposit, 'job', 'x.gz')} ${join(quarantine, 'x.gz')}`);
    const reason = indexOf(`fsync ${join(quarantine, 'REASON.txt')}`);
    expect(calls.lastIndexOf(`fsync ${quarantine}`)).toBeGreaterThan(Math.max(moved, reason));
    expect(calls.lastIndexOf(`fsync ${join(deposit, 'job')}`)).toBeGreaterThan(moved);
    expect(indexOf(`fsync ${join(root, 'q-deposits')}`)).toBeLessThan(moved); // .quarantine was created: its entry is durable
    expect(await readFile(join(quarantine, 'REASON.txt'), 'utf8')).toContain('reason: size differs');
  });

  it("removes a processed run's deposited files, then fsyncs the directories they were in", async () => {
    const agentRoot = join(root, 'r-deposits', 't', 'a');
    const deposit = join(agentRoot, 'job');
    const files = [
      { path: 'top.gz', content: dump(2000, 5) },
      { path: 'base/db.gz', content: dump(3000, 6) },
      { path: 'wal/0001', content: dump(1000, 7) },
    ];
    await rsyncFiles(join(root, 'r-src'), agentRoot, 'job', files);
    const validation = await validateDeposit(deposit, manifestOf(files));
    if (!validation.ok) throw new Error(validation.reason);
    const promotedDir = join(root, 'r-validated', 'job', 'r1');
    await promote({ depositDir: deposit, jobDir: dirname(promotedDir), runId: 'r1', files: validation.files });
    const run = { runId: 'r1', files: manifestOf(files) } as unknown as BackupRun;
    const left = async () => (await readdir(deposit, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

    calls.length = 0;
    await removeDeposit(deposit, promotedDir, run);
    for (const file of files) {
      const removed = indexOf(`unlink ${join(deposit, file.path)}`);
      expect(calls.lastIndexOf(`fsync ${dirname(join(deposit, file.path))}`), calls.join('\n')).toBeGreaterThan(removed);
    }
    expect(await left()).toEqual([]);

    // Done again (a crash between the unlinks and their fsync leaves the cleanup unrecorded): nothing to unlink, the directories are still fsynced.
    calls.length = 0;
    await removeDeposit(deposit, promotedDir, run);
    expect(calls.filter((c) => c.startsWith('unlink'))).toEqual([]);
    for (const dir of [deposit, join(deposit, 'base'), join(deposit, 'wal')]) indexOf(`fsync ${dir}`);

    // An UNCHANGED run (no promoted copy to compare with) is removed the same way.
    await rsyncFiles(join(root, 'r-src2'), agentRoot, 'job', [{ path: 'base/again.gz', content: dump(1000, 8) }]);
    calls.length = 0;
    await removeDeposit(deposit, null, { runId: 'r2', files: [{ path: 'base/again.gz', size: 1000, sha256: '0'.repeat(64) }] } as unknown as BackupRun);
    expect(calls.lastIndexOf(`fsync ${join(deposit, 'base')}`)).toBeGreaterThan(indexOf(`unlink ${join(deposit, 'base', 'again.gz')}`));
    expect(await left()).toEqual([]);
  });
});
