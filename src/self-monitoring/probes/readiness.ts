/**
 * The database and Redis self probes: the readiness probes of health/probes.ts (the same checks
 * as /api/v1/health/readiness, with its timeout), timed, and slow answers called a warning.
 *
 * A limit in the nature of the thing: a database that is down cannot store the result that says
 * so, so the scheduled database check records slowness but not an outage; an outage shows on
 * readiness (503) and on `check/database`, which answer without writing.
 */
import { performance } from 'node:perf_hooks';
import { runProbes } from '../../health/probes.js';
import type { ProbeEnvironment } from '../environment.js';
import type { SelfProbe } from '../probe.js';

/** An answer slower than this is a warning: every check and every ping waits on these parts. */
export const SLOW_ANSWER_MS = 1000;

interface ReadinessProbeSpec {
  service: 'database' | 'redis';
  title: string;
  /** How messages name the part. */
  label: string;
  intervalSeconds: number;
  unavailableReason: string;
}

export function readinessSelfProbe(env: ProbeEnvironment, spec: ReadinessProbeSpec): SelfProbe {
  const find = () => env.readiness().find((probe) => probe.name === spec.service);
  return {
    service: spec.service,
    title: spec.title,
    intervalSeconds: spec.intervalSeconds,
    unavailableReason: spec.unavailableReason,
    available: () => find() !== undefined,
    async run() {
      const probe = find();
      if (!probe) return { status: 'down', latencyMs: 0, message: spec.unavailableReason };
      const started = performance.now();
      const outcome = (await runProbes([probe]))[probe.name]!;
      const latencyMs = Math.round(performance.now() - started);
      if (outcome.status === 'down') return { status: 'down', latencyMs, message: `${spec.label} does not answer: ${outcome.error ?? 'no reason given'}` };
      if (latencyMs > SLOW_ANSWER_MS) return { status: 'warning', latencyMs, message: `${spec.label} answered slowly, in ${latencyMs} ms (above ${SLOW_ANSWER_MS} ms)` };
      return { status: 'up', latencyMs, message: `${spec.label} answered in ${latencyMs} ms` };
    },
  };
}

export const databaseSelfProbe = (env: ProbeEnvironment): SelfProbe =>
  readinessSelfProbe(env, {
    service: 'database',
    title: 'Vigie database',
    label: 'the database',
    intervalSeconds: 30,
    unavailableReason: 'The database probe is not set up in this process',
  });

export const redisSelfProbe = (env: ProbeEnvironment): SelfProbe =>
  readinessSelfProbe(env, {
    service: 'redis',
    title: 'Vigie Redis',
    label: 'Redis',
    intervalSeconds: 30,
    unavailableReason: 'Redis is not configured (REDIS_URL is not set)',
  });
