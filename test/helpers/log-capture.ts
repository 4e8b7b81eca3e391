/** A real pino logger whose JSON lines are kept in memory, for tests that read what is logged. */
import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';

export interface LogCapture {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: Record<string, unknown>[];
  /** Every line as written (to search for what must never appear). */
  raw: string[];
}

export function captureLogs(level: 'debug' | 'info' = 'debug'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = pino(
    { level, base: { service: 'vigie' } },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, raw };
}

/** pino's level numbers. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
