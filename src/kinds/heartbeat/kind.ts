/**
 * Kind `heartbeat` (seed 002, the Healthchecks protocol): a passive kind. Pings report on their
 * own; the sweep turns a ping that did not come into a verdict. Its modules live in heartbeats/
 * (protocol, schedules, sweep, badges); this file plugs them into the core.
 */
import { NotFoundError } from '../../errors.js';
import { createBadgeLinks } from '../../heartbeats/badge-links.js';
import { listHeartbeats, type HeartbeatCheck } from '../../heartbeats/heartbeats.repository.js';
import { createHeartbeatsService, NEW_CHECK } from '../../heartbeats/heartbeats.service.js';
import { createPingGate } from '../../heartbeats/ping-gate.js';
import { createPingWriter } from '../../heartbeats/pings.js';
import { createHeartbeatSweep } from '../../heartbeats/sweep.js';
import type { Monitor } from '../../monitors/monitors.repository.js';
import { checkResultsHistory } from '../../monitors/results-history.js';
import { registerBadgeRoutes } from '../../routes/badges.js';
import { registerHealthchecksV3Routes } from '../../routes/healthchecks-v3.js';
import { registerPingKeyRoutes } from '../../routes/ping-key.js';
import { registerPingRoutes } from '../../routes/pings.js';
import type { WatchedCheck } from '../../self-monitoring/watched-checks.js';
import { defineKind } from '../contract.js';
import { mergedHistory } from '../history.js';
import { flushOnStop, intervalLoop } from '../loops.js';
import { emailPingLoops } from './email-pings.js';
import { pingHistory } from './history.js';

/** How often deadlines are looked at: a late or down check shows within a second. */
const SWEEP_INTERVAL_MS = 1000;
/** Enough for any tenant; seed 002's list is not paginated. */
const ALL = { limit: 100_000, offset: 0 } as const;

function asWatched(check: HeartbeatCheck, monitor: Pick<Monitor, 'stateChangedAt'> | undefined): WatchedCheck {
  const failingSince = check.status === 'down' ? (monitor?.stateChangedAt ?? null) : check.status === 'grace' && check.alertAfter !== null ? check.alertAfter - check.graceSeconds * 1000 : null;
  return { id: check.id, name: check.name, kind: 'heartbeat', status: check.status, lastPingAt: check.lastPingAt, tags: check.tags, failingSince };
}

/** Deadlines off: a paused check neither goes late nor down; a ping resumes it unless manual_resume. */
const CLEARED_DEADLINES = { alert_after: null, deadline_at: null, sweep_at: null } as const;
const NO_RUN = { last_start_at: null, last_start_rid: null } as const;

export const heartbeatKind = defineKind({
  kind: 'heartbeat',
  settingsTable: 'heartbeat_checks',
  services: (host) => ({
    heartbeats: createHeartbeatsService(host),
    pings: createPingWriter(host),
    pingGate: createPingGate(host),
    badges: createBadgeLinks(host),
    heartbeatSweep: createHeartbeatSweep(host),
  }),
  async onPause(trx, monitor) {
    await trx
      .updateTable('heartbeat_checks')
      // Healthchecks' pause also ends the run under way (views.pause).
      .set({ status: 'paused', ...CLEARED_DEADLINES, ...NO_RUN })
      .where('monitor_id', '=', monitor.id)
      .where('tenant_id', '=', monitor.tenantId)
      .execute();
  },
  async onResume(trx, monitor) {
    // Back to `new`, as Healthchecks does (views.resume): no run under way, no last ping; the next ping starts the schedule again.
    await trx
      .updateTable('heartbeat_checks')
      .set({ status: 'new', ...CLEARED_DEADLINES, ...NO_RUN, last_ping_at: null })
      .where('monitor_id', '=', monitor.id)
      .where('tenant_id', '=', monitor.tenantId)
      .where('status', '=', 'paused')
      .execute();
  },
  history: mergedHistory(pingHistory, checkResultsHistory('sweep')),
  // The ping fast path does not rewrite the monitor row for a ping that changes nothing.
  async lastActivity(db, tenantId, monitorIds) {
    if (monitorIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('heartbeat_checks')
      .select(['monitor_id', 'last_ping_at'])
      .where('tenant_id', '=', tenantId)
      .where('monitor_id', 'in', [...monitorIds])
      .execute();
    return new Map(rows.map((r) => [r.monitor_id, r.last_ping_at]));
  },
  // The e-mail listener comes after the writer it feeds, so it stops (loops stop in reverse) first.
  loops: (runtime, own) => [
    intervalLoop('heartbeat sweep', SWEEP_INTERVAL_MS, () => own.heartbeatSweep.run(), runtime.logger),
    flushOnStop('ping writer', () => own.pings.flush()),
    ...emailPingLoops(runtime, own),
  ],
  routes(app, own, deps) {
    registerPingRoutes(app, own, deps.config, deps.clock);
    registerHealthchecksV3Routes(app, { ...own, channels: deps.channels, monitors: deps.monitors }, deps.db, deps.clock, deps.config.bodyMaxDepth);
    registerBadgeRoutes(app, own);
    registerPingKeyRoutes(app, deps.db);
  },
  watched: (own, host) => ({
    async list(tenantId) {
      const [checks, monitors] = await Promise.all([listHeartbeats(host.db, tenantId), host.monitors.list(tenantId, { kind: 'heartbeat', ...ALL })]);
      const byId = new Map(monitors.items.map((m) => [m.id, m]));
      return checks.map((check) => asWatched(check, byId.get(check.id)));
    },
    read: async (tenantId, monitor) => asWatched(await own.heartbeats.get(tenantId, monitor.id), monitor),
    // Seed 002's pause/resume take a check's ping UUID too, and mean what Healthchecks' v3 means.
    monitorIdOf: (tenantId, pingUuid) =>
      own.heartbeats.getByPingUuid(tenantId, pingUuid).then(
        (check) => check.id,
        (error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)),
      ),
    pause: (tenantId, id) => own.heartbeats.pause(tenantId, id),
    resume: (tenantId, id) => own.heartbeats.resume(tenantId, id),
  }),
  isolationRoutes: [
    { method: 'GET', url: '/api/v3/checks/{pingUuid}' },
    { method: 'POST', url: '/api/v3/checks/{pingUuid}/pause' },
    { method: 'DELETE', url: '/api/v3/checks/{pingUuid}' },
  ],
  async example(own, tenantId) {
    const check = await own.heartbeats.create(tenantId, { ...NEW_CHECK, name: 'example job', slug: null });
    return { id: check.id, params: { pingUuid: check.pingUuid } };
  },
});
