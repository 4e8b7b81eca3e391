/** JSON logs (pino, the logger Fastify itself uses), one instance per process. */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'vigie' }, timestamp: pino.stdTimeFunctions.isoTime });
}
