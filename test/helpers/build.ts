/** vitest global set-up: the CLI tests run the built `dist/cli.js`, so build it when stale. */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
}
