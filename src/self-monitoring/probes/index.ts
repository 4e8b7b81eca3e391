/**
 * The registry of self probes: one entry per service of SELF_SERVICES (the Record type makes a
 * missing one a compile error). Each run is timed and can never reject: a probe that throws
 * (e.g. its query fails because the database is gone) reads as `down` with the reason.
 */
import { performance } from 'node:perf_hooks';
import type { ProbeEnvironment } from '../environment.js';
import type { ProbeReading, SelfProbe } from '../probe.js';
import { SELF_SERVICES, type SelfService } from '../self-services.js';
import { deliverySelfProbe } from './delivery.js';
import { jobRunnerSelfProbe } from './job-runner.js';
import { databaseSelfProbe, redisSelfProbe } from './readiness.js';
import { schedulerSelfProbe } from './scheduler.js';

export type SelfProbeRegistry = Readonly<Record<SelfService, SelfProbe>>;

const FACTORIES: Record<SelfService, (env: ProbeEnvironment) => SelfProbe> = {
  database: databaseSelfProbe,
  redis: redisSelfProbe,
  'job-runner': jobRunnerSelfProbe,
  scheduler: schedulerSelfProbe,
  delivery: deliverySelfProbe,
};

function timedAndSafe(probe: SelfProbe): SelfProbe {
  return {
    ...probe,
    available: () => probe.available(),
    async run(): Promise<ProbeReading> {
      const started = performance.now();
      let reading: ProbeReading;
      try {
        reading = await probe.run();
      } catch (error) {
        reading = { status: 'down', latencyMs: 0, message: `the ${probe.service} check failed: ${error instanceof Error ? error.message || error.name : String(error)}` };
      }
      // Probes that time a part themselves (database, Redis) keep their figure; others take the run's.
      return { ...reading, latencyMs: reading.latencyMs || Math.round(performance.now() - started) };
    },
  };
}

export function createSelfProbes(env: ProbeEnvironment): SelfProbeRegistry {
  return Object.freeze(Object.fromEntries(SELF_SERVICES.map((service) => [service, timedAndSafe(FACTORIES[service](env))])) as Record<SelfService, SelfProbe>);
}
