/**
 * Kind `self`: Vigie's own parts (database, Redis, job runner, scheduler, delivery) as active
 * monitors in the operator's tenant (self-monitoring/). Provisioned when the background work
 * starts, since the probes need its runtime signals.
 */
import { isFailing } from '../../monitors/kinds.js';
import type { Monitor } from '../../monitors/monitors.repository.js';
import { checkResultsHistory } from '../../monitors/results-history.js';
import { provisionSelfChecks } from '../../self-monitoring/provisioning.js';
import { createSelfMonitoring } from '../../self-monitoring/self-monitoring.service.js';
import { createSelfChecker } from '../../self-monitoring/self.checker.js';
import type { WatchedCheck } from '../../self-monitoring/watched-checks.js';
import { defineKind } from '../contract.js';

const ALL = { limit: 100_000, offset: 0 } as const;

function asWatched(monitor: Monitor): WatchedCheck {
  return {
    id: monitor.id,
    name: monitor.name,
    kind: 'self',
    status: monitor.state,
    lastPingAt: monitor.lastCheckedAt,
    tags: monitor.tags,
    failingSince: isFailing(monitor.state) ? monitor.stateChangedAt : null,
  };
}

export const selfKind = defineKind({
  kind: 'self',
  settingsTable: 'self_checks',
  services: (host) => ({ selfMonitoring: createSelfMonitoring(host) }),
  checker: (host, own) => createSelfChecker(host, own.selfMonitoring.probes),
  history: checkResultsHistory(),
  loops: (runtime, own) => [
    {
      name: 'self-monitoring provisioning',
      async start() {
        own.selfMonitoring.attachRuntime({ startedAt: runtime.startedAt, checkQueue: runtime.jobs.checkQueue, alerting: runtime.alerting });
        await own.selfMonitoring
          .provision(runtime.config.selfMonitoringTenant, runtime.logger)
          .catch((error: unknown) => runtime.logger.warn({ err: error }, 'self-monitoring: could not create the self checks; retried at the next start'));
      },
      async stop() {},
    },
  ],
  watched: (_own, host) => ({
    list: async (tenantId) => (await host.monitors.list(tenantId, { kind: 'self', ...ALL })).items.map(asWatched),
    read: async (_tenantId, monitor) => asWatched(monitor),
  }),
  isolationRoutes: [
    { method: 'POST', url: '/api/monitoring/checks/{id}/pause' },
    { method: 'POST', url: '/api/monitoring/checks/{id}/resume' },
  ],
  async example(own, tenantId, host) {
    const report = await provisionSelfChecks({ db: host.db, clock: host.clock, probes: own.selfMonitoring.probes, tenantId });
    const row = await host.db
      .selectFrom('self_checks')
      .select('monitor_id')
      .where('tenant_id', '=', tenantId)
      .where('service', '=', report.created[0] ?? 'database')
      .executeTakeFirstOrThrow();
    return { id: row.monitor_id };
  },
});
