/**
 * Vigie's memory bound (issue 12) comes from the node flags it starts with: `vigie`'s shebang
 * line (src/cli.ts) and `npm start` must carry the same ones, and a real node process started
 * with them must have the capped heap.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const shebangFlags = () => /^#!\/usr\/bin\/env -S node (.+)$/.exec(readFileSync('src/cli.ts', 'utf8').split('\n', 1)[0]!)?.[1]?.split(' ') ?? [];

describe('the heap flags Vigie starts with', () => {
  it('are the same in the shebang of vigie and in npm start', () => {
    const flags = shebangFlags();
    expect(flags).toEqual(['--max-semi-space-size=4', '--max-old-space-size=160']);
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    expect(start).toContain(`node ${flags.join(' ')} dist/cli.js serve`);
  });

  it('cap the V8 heap of a node process started with them', () => {
    const limitMib = Number(
      execFileSync(process.execPath, [...shebangFlags(), '-e', "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit / 1048576))"], { encoding: 'utf8' }),
    );
    // Old space 160 MiB plus the young generation (a few semi-spaces of 4 MiB).
    expect(limitMib).toBeGreaterThanOrEqual(160);
    expect(limitMib).toBeLessThan(200);
  });
});
