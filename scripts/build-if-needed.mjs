#!/usr/bin/env node
// Builds dist/ with tsc when any source is newer than the last build, so that `npm start` on a
// fresh clone builds once and later starts are instant. `--stamp` only records a build that
// `npm run build` has just made.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = [join(root, 'src'), join(root, 'package.json'), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function writeStamp() {
  writeFileSync(stamp, new Date().toISOString() + '\n');
}

if (process.argv.includes('--stamp')) {
  writeStamp();
} else {
  const upToDate = existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...inputs.map(newestMtime));
  if (!upToDate) {
    process.stderr.write('vigie: building dist/ (sources changed since the last build)…\n');
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    writeStamp();
  }
}
