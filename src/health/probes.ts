/**
 * Readiness probes: named checks of the parts Vigie cannot work without. Readiness runs them
 * all; self-monitoring (a later issue) reuses the same list.
 */
import { Redis } from 'ioredis';
import type { DatabaseHandle } from '../db/database.js';

export interface ReadinessProbe {
  readonly name: string;
  /** Resolves when the part answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export const PROBE_TIMEOUT_MS = 3_000;

export function databaseProbe(database: DatabaseHandle): ReadinessProbe {
  return { name: 'database', check: () => database.ping() };
}

/** Opens a short-lived connection per check, so a probe never reports an old connection's state. */
export function redisProbe(url: string): ReadinessProbe {
  return {
    name: 'redis',
    async check() {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      client.on('error', () => {}); // reported through the rejected promise below
      try {
        await client.connect();
        const answer = await client.ping();
        if (answer !== 'PONG') throw new Error(`unexpected answer to PING: ${String(answer)}`);
      } finally {
        client.disconnect();
      }
    },
  };
}

export interface ProbeOutcome {
  status: 'ok' | 'down';
  error?: string;
}

export async function runProbes(probes: readonly ReadinessProbe[]): Promise<Record<string, ProbeOutcome>> {
  const outcomes = await Promise.all(
    probes.map(async (probe): Promise<[string, ProbeOutcome]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
          }),
        ]);
        return [probe.name, { status: 'ok' }];
      } catch (error) {
        return [probe.name, { status: 'down', error: error instanceof Error ? error.message || error.name : String(error) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(outcomes);
}
