/**
 * The ingest body checker's worker thread (the compiled script in dist/, which the test set-up
 * builds) gives exactly what checking in the calling thread gives, for good and bad bodies
 * alike, and a thread that dies fails its pending batches instead of leaving them hanging.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestBodyChecker, parseAndCheck } from '../src/metrics/ingest/body-checker.js';

const THREAD_SCRIPT = new URL('../dist/metrics/ingest/body-check-thread.js', import.meta.url);
const RECEIVED_AT = Date.UTC(2026, 10, 22, 12, 0, 0);
const MAX_METRICS = 50;

const metric = (extra: object) => ({ name: 'cpu', type: 'numeric', value: 1.5, ...extra });
const BODIES: [string, string][] = [
  [
    'the seed example',
    JSON.stringify({
      machine: { hostname: 'web-01', os: 'linux', agent_version: '1.2.0', tags: ['prod', 'eu'] },
      metrics: [
        { name: 'cpu_load', type: 'numeric', value: 0.42, unit: 'ratio' },
        { name: 'backup_ok', type: 'bool', value: true },
        { name: 'kernel', type: 'string', value: '6.1.0-18-amd64' },
      ],
      sent_at: '2026-11-22T11:59:59Z',
    }),
  ],
  [
    'labels in any order, units null or absent, ts in both forms, the same series twice',
    JSON.stringify({
      machine: { hostname: 'db-01' },
      metrics: [
        metric({ labels: { mount: '/', device: 'sda1' }, unit: null, ts: '2026-11-22T13:00:00+02:00' }),
        metric({ labels: { device: 'sda1', mount: '/' }, value: 2, ts: RECEIVED_AT - 1000 }),
        metric({ name: 'up', type: 'bool', value: false }),
        metric({ name: 'state', type: 'string', value: 'ok', unit: 'text' }),
      ],
    }),
  ],
  ['no metrics', JSON.stringify({ machine: { hostname: 'idle' }, metrics: [] })],
  ['invalid JSON', '{"machine": {"hostname": "x"}, "metrics": [}'],
  ['an empty body', ''],
  ['a __proto__ key', '{"machine": {"hostname": "x", "__proto__": {"admin": true}}, "metrics": []}'],
  ['not an object', '[1, 2]'],
  ['too many metrics', JSON.stringify({ machine: { hostname: 'x' }, metrics: Array.from({ length: MAX_METRICS + 1 }, () => metric({})) })],
  [
    'bad items',
    JSON.stringify({
      machine: { hostname: '' },
      metrics: [metric({ value: 'high' }), metric({ type: 'gauge' }), metric({ labels: { '1x': 'a' } }), metric({ ts: 1_000 }), metric({ extra: 1 })],
    }),
  ],
  ['one series with two types', JSON.stringify({ machine: { hostname: 'x' }, metrics: [metric({}), metric({ type: 'bool', value: true })] })],
];

describe('the ingest body checker', () => {
  const threaded = createIngestBodyChecker({ maxMetrics: MAX_METRICS, threads: 2, threadScript: THREAD_SCRIPT });
  const dirs: string[] = [];
  afterAll(async () => {
    await threaded.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('runs in worker threads when the compiled script exists, in the calling thread otherwise', () => {
    expect(threaded.threaded).toBe(true);
    expect(createIngestBodyChecker({ maxMetrics: MAX_METRICS, threads: 1, threadScript: new URL('file:///nowhere/body-check-thread.js') }).threaded).toBe(false);
    expect(createIngestBodyChecker({ maxMetrics: MAX_METRICS, threads: 0, threadScript: THREAD_SCRIPT }).threaded).toBe(false);
  });

  it.each(BODIES)('%s: the thread answers as the calling thread does', async (_name, text) => {
    const inThread = parseAndCheck(text, RECEIVED_AT, MAX_METRICS);
    expect(await threaded.check(text, RECEIVED_AT)).toEqual(inThread);
  });

  it('many batches at once each get their own answer', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => JSON.stringify({ machine: { hostname: `host-${i}` }, metrics: [metric({ value: i })] }));
    const answers = await Promise.all(texts.map((text) => threaded.check(text, RECEIVED_AT)));
    expect(answers.map((a) => (a.ok ? [a.batch.machine.hostname, a.batch.metrics[0]!.value] : null))).toEqual(texts.map((_, i) => [`host-${i}`, i]));
  });

  it('a thread that dies fails the batches it held, and each later batch too, without hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-body-thread-'));
    dirs.push(dir);
    const script = join(dir, 'dying-thread.mjs');
    writeFileSync(script, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const dying = createIngestBodyChecker({ maxMetrics: MAX_METRICS, threads: 1, threadScript: pathToFileURL(script) });
    try {
      expect(dying.threaded).toBe(true);
      await expect(dying.check('{}', RECEIVED_AT)).rejects.toThrow(/exited with code 3/);
      await expect(dying.check('{}', RECEIVED_AT)).rejects.toThrow(/exited with code 3/);
    } finally {
      await dying.close();
    }
  });
});
