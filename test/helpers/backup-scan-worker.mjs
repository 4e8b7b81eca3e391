/**
 * A minimal backup scanning process for the SIGKILL test (test/backups-sigkill.test.ts). It loads
 * the built dist/ (vitest's global set-up builds it when stale), only the modules the scanner
 * needs, says `loaded` and waits: the test starts the next process while the current one still
 * runs, so the cost of loading code is not paid between a kill and the restart (a supervisor's
 * restart of `vigie serve` pays it, but it has nothing to do with crash safety). Told
 * `start [STEP [OCCURRENCE]]` on stdin, it opens the database, runs the backup kind's start-up
 * recovery, says `recovered` and waits again; told `go`, it runs scanner passes until killed.
 * With STEP, it kills itself with SIGKILL at that step of the scanner (its `onStep` hook), on that
 * occurrence (1 by default): kills land exactly between the writes they separate.
 *
 * argv: DATABASE_URL DEPOSIT_DIR VALIDATED_DIR
 */
import { createInterface } from 'node:readline';

const [url, depositDir, validatedDir] = process.argv.slice(2);
const dist = new URL('../../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const [{ openDatabase }, { parseDatabaseUrl }, { systemClock }, { createResultRecorder }, { recordFlipEvent }, { createBackupScanner }] = await Promise.all([
  load('db/database.js'),
  load('db/database-url.js'),
  load('clock.js'),
  load('monitors/results.service.js'),
  load('alerting/events.js'),
  load('kinds/backup/scanner.js'),
]);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value ?? process.exit(0);
process.stdout.write('loaded\n');
const [, killAtStep, occurrence = '1'] = (await nextLine()).split(' ');

const database = await openDatabase(parseDatabaseUrl(url));
const recorder = createResultRecorder({ db: database.db, clock: systemClock, onFlipWritten: recordFlipEvent });
let seen = 0;
const scanner = createBackupScanner({
  db: database.db,
  clock: systemClock,
  recorder,
  zones: { depositDir, validatedDir },
  settleMs: 0,
  logger: { warn: (fields, message) => process.stderr.write(`${message} ${fields?.err?.message ?? ''}\n`), info() {} },
  onStep: (step) => {
    process.stdout.write(`step ${step}\n`);
    if (step === killAtStep && ++seen === Number(occurrence)) process.kill(process.pid, 'SIGKILL');
  },
});
await scanner.recover();
process.stdout.write('recovered\n');
await nextLine();
for (;;) {
  await scanner.pass();
  process.stdout.write('pass\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
}
