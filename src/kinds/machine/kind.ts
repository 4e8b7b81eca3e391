/**
 * Kind `machine` (seed 000's agents): a passive kind. Each ingested batch says a machine is alive;
 * the liveness sweep marks it down when nothing came for its tenant's heartbeat_threshold_minutes.
 * The series store it feeds (metrics/) is read by metric rules too.
 */
import { randomUUID } from 'node:crypto';
import { checkIngestBody } from '../../metrics/ingest/ingest-body.js';
import { createMetricsHousekeeping } from '../../metrics/housekeeping.js';
import { createIngestWriter } from '../../metrics/ingest/ingest-writer.js';
import { createMachineLiveness } from '../../metrics/liveness.js';
import { createMachinesService } from '../../metrics/machines.service.js';
import { createSampleMover } from '../../metrics/sample-mover.js';
import { createSeriesService } from '../../metrics/series.service.js';
import { checkResultsHistory } from '../../monitors/results-history.js';
import { registerIngestRoutes } from '../../routes/ingest.js';
import { registerMachineRoutes } from '../../routes/machines.js';
import { registerSeriesRoutes } from '../../routes/series.js';
import { defineKind } from '../contract.js';
import { mergedHistory } from '../history.js';
import { flushOnStop, intervalLoop, namedLoop } from '../loops.js';
import { ingestHistory } from './history.js';

/** How often machines' silence is looked at (seed 000's heartbeat job ran every 120 s; thresholds are minutes). */
const LIVENESS_SWEEP_MS = 30_000;

export const machineKind = defineKind({
  kind: 'machine',
  settingsTable: 'machines',
  services: (host) => ({
    /** Agent ingestion: batches committed in groups, answered once stored. */
    ingest: createIngestWriter(host),
    machines: createMachinesService(host),
    /** The series store's read side: series, points (raw or rollups), exports. */
    series: createSeriesService(host),
    /** Machines silent past their tenant's heartbeat threshold go down. */
    machineLiveness: createMachineLiveness(host),
    /** Agent metrics: ingestion says here what it stored; rules and counters listen. */
    sampleEvents: host.sampleEvents,
  }),
  history: mergedHistory(ingestHistory, checkResultsHistory('liveness')),
  loops: ({ db, clock, config, logger }, own) => [
    intervalLoop('machine liveness sweep', LIVENESS_SWEEP_MS, () => own.machineLiveness.run(), logger),
    // Series store: rollups (hearing late samples from ingestion) and retention, every minute.
    namedLoop(
      'series housekeeping',
      createMetricsHousekeeping({
        db,
        clock,
        logger,
        sampleEvents: own.sampleEvents,
        retention: { raw: config.metricsRawRetentionDays, minuteRollups: config.metricsMinuteRollupsRetentionDays, hourRollups: config.metricsHourRollupsRetentionDays },
      }),
    ),
    // Numeric samples from samples_recent into samples, a slice of series every 100 ms.
    namedLoop('sample mover', createSampleMover({ db, logger })),
    flushOnStop('ingest writer', () => own.ingest.flush()),
  ],
  routes(app, own, deps) {
    registerIngestRoutes(app, own, deps);
    registerMachineRoutes(app, own);
    registerSeriesRoutes(app, own);
  },
  isolationRoutes: [{ method: 'GET', url: '/api/v1/machines/{id}' }],
  async example(own, tenantId, host) {
    const now = host.clock.now();
    const body = { machine: { hostname: `example-${tenantId.slice(0, 8)}`, os: 'linux' }, metrics: [{ name: 'cpu_percent', type: 'numeric', value: 12.5 }] };
    const checked = checkIngestBody(body, now, 10);
    if (!checked.ok) throw new Error(`the example batch is invalid: ${JSON.stringify(checked.problems)}`);
    const stored = await own.ingest.submit({ tenantId, ingestId: randomUUID(), expiresAt: now + 3_600_000, batch: checked.batch });
    return { id: stored.machine_id };
  },
});
