/**
 * The SQL of the ping path, compiled once per database (see db/precompiled.ts): a ping runs
 * three to five of these, and building them with Kysely each time cost more than SQLite took to
 * run them. Each returns plain rows; src/heartbeats/pings.ts holds the logic.
 */
import type { Updateable } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import { precompile, slot } from '../db/precompiled.js';
import type { HeartbeatChecksTable } from '../db/tables/heartbeats.table.js';

export function createPingStatements(db: Db) {
  // On PostgreSQL the rows are locked from this read to the commit (SQLite has one writer, so
  // nothing can change them meanwhile): the check's, since what the ping writes is computed from
  // what it read (n, and whether sweep_at may stay: a sweep moving the check in between would
  // otherwise be overwritten, see sweep.ts); the monitor's FOR SHARE, since recordSeenWithin may
  // write nothing on the strength of its state.
  const checkWithMonitor = db
    .selectFrom('heartbeat_checks')
    .innerJoin('monitors', 'monitors.id', 'heartbeat_checks.monitor_id')
    .select([
      'heartbeat_checks.monitor_id',
      'heartbeat_checks.tenant_id',
      'heartbeat_checks.status',
      'heartbeat_checks.n_pings',
      'heartbeat_checks.last_start_at',
      'heartbeat_checks.alert_after',
      'heartbeat_checks.deadline_at',
      'heartbeat_checks.sweep_at',
      'heartbeat_checks.timeout_seconds',
      'heartbeat_checks.grace_seconds',
      'heartbeat_checks.schedule',
      'heartbeat_checks.tz',
      'heartbeat_checks.manual_resume',
      'heartbeat_checks.methods',
      'heartbeat_checks.last_start_rid',
      'heartbeat_checks.filter_http_body',
      'heartbeat_checks.filter_default_fail',
      'heartbeat_checks.start_kw',
      'heartbeat_checks.success_kw',
      'heartbeat_checks.failure_kw',
      'monitors.state as monitor_state',
    ])
    .where('heartbeat_checks.ping_uuid', '=', slot<string>('pingUuid'));
  const findCheck = precompile(dialectOf(db).lockRows(checkWithMonitor, { heartbeat_checks: 'noKeyUpdate', monitors: 'share' }));
  const findStart = precompile(
    db.selectFrom('pings').select('at').where('monitor_id', '=', slot<string>('monitorId')).where('rid', '=', slot<string>('rid')).where('kind', '=', 'start').orderBy('n', 'desc').limit(1),
  );
  const where = { monitorId: slot<string>('monitorId') };
  const countPing = precompile(
    db
      .updateTable('heartbeat_checks')
      .set({ n_pings: slot<number>('n') })
      .where('monitor_id', '=', where.monitorId),
  );
  const timing = { n_pings: slot<number>('n'), status: slot<string>('status'), alert_after: slot<number>('alertAfter'), deadline_at: slot<number>('deadlineAt') };
  // Each write of a new deadline comes in two forms: one moves sweep_at (indexed) to it, the other
  // leaves sweep_at alone when the sweep looks soon enough anyway (sweep.ts, sweepStaysInTime).
  const timingWrite = (set: Updateable<HeartbeatChecksTable>) => ({
    movingSweep: precompile(
      db
        .updateTable('heartbeat_checks')
        .set({ ...timing, ...set, sweep_at: slot<number>('deadlineAt') })
        .where('monitor_id', '=', where.monitorId),
    ),
    keepingSweep: precompile(
      db
        .updateTable('heartbeat_checks')
        .set({ ...timing, ...set })
        .where('monitor_id', '=', where.monitorId),
    ),
  });
  // A start does not set last_ping (Healthchecks' Check.ping); a success or failure ends the run
  // under way, or leaves it running (another rid): the writer says which in runStartAt/runRid.
  const startRun = timingWrite({ last_start_at: slot<number>('at'), last_start_rid: slot<string | null>('rid') });
  const endRun = timingWrite({
    last_ping_at: slot<number>('at'),
    last_start_at: slot<number | null>('runStartAt'),
    last_start_rid: slot<string | null>('runRid'),
    last_duration_ms: slot<number | null>('lastDurationMs'),
  });
  const insertPing = precompile(
    db.insertInto('pings').values({
      monitor_id: slot<string>('monitorId'),
      n: slot<number>('n'),
      at: slot<number>('at'),
      kind: slot<string>('kind'),
      exit_status: slot<number | null>('exitStatus'),
      rid: slot<string | null>('rid'),
      method: slot<string>('method'),
      remote_addr: slot<string | null>('remoteAddr'),
      user_agent: slot<string | null>('userAgent'),
      body: slot<string | null>('body'),
      body_size: slot<number>('bodySize'),
      duration_ms: slot<number | null>('durationMs'),
    }),
  );
  const prunePings = precompile(db.deleteFrom('pings').where('monitor_id', '=', where.monitorId).where('n', '<=', slot<number>('upTo')));
  return { findCheck, findStart, countPing, startRun, endRun, insertPing, prunePings };
}

export type PingStatements = ReturnType<typeof createPingStatements>;
