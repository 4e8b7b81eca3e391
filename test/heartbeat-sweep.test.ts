/**
 * The sweep's own index, `sweep_at` (migration 0010, src/heartbeats/sweep.ts), on every dialect:
 * a ping that only postpones a check's deadline leaves `sweep_at` where it is; the sweep, coming
 * early, moves it on to the deadline without touching the check, and the check still turns late
 * then down at the right moments; a ping that brings the deadline sooner moves `sweep_at`; two
 * sweepers at once move each check once; on PostgreSQL a ping and a sweep that cross on two
 * connections leave the ping's deadline, whichever comes first; a second process over the same
 * database (a restart) sweeps on time; and checks stored before 0010 are swept at their deadlines.
 */
import { sql, type KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../src/services.js';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { createMigrator, migrateToLatest } from '../src/db/migrate.js';
import type { HeartbeatInput } from '../src/heartbeats/heartbeats.service.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';
import { createPingWriter } from '../src/heartbeats/pings.js';
import { createHeartbeatSweep } from '../src/heartbeats/sweep.js';
import { createTenantWithKey, createTestApp, TEST_SECRET_KEY, type TenantFixture, type TestContext } from './helpers/app.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { ManualClock } from '../src/clock.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe.each(TEST_DIALECTS)('the heartbeat sweep and sweep_at on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  const others: DatabaseHandle[] = [];

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
  }

  const createCheck = (input: Partial<HeartbeatInput> = {}) => ctx.services.heartbeats.create(tenant.tenantId, heartbeatInput(input));

  async function ping(pingUuid: string, suffix = '') {
    const response = await ctx.app.inject({ method: 'GET', url: `/ping/${pingUuid}${suffix}` });
    expect(response.statusCode, response.body).toBe(200);
  }

  const row = (id: string) => ctx.database.db.selectFrom('heartbeat_checks').select(['status', 'deadline_at', 'sweep_at', 'alert_after']).where('monitor_id', '=', id).executeTakeFirstOrThrow();
  const flips = (id: string) => ctx.database.db.selectFrom('monitor_flips').select(['from_state', 'to_state', 'at']).where('monitor_id', '=', id).orderBy('at').execute();

  /** Another service graph on a connection of its own to the same database: another worker, or the process after a restart. */
  async function anotherProcess(clock = ctx.clock): Promise<Services> {
    const other = await openDatabase(ctx.testDatabase.target);
    others.push(other);
    return createServices({ db: other.db, clock, secretKey: TEST_SECRET_KEY, jwtExpiresMinutes: 60 });
  }

  it('a ping that postpones the deadline leaves sweep_at; the sweep moves it on, and the check is late then down on time', async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
    const t0 = ctx.clock.now();
    await ping(pingUuid);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 60_000, sweep_at: t0 + 60_000, alert_after: t0 + 90_000 });
    ctx.clock.set(t0 + 10_000);
    await ping(pingUuid);
    ctx.clock.set(t0 + 20_000);
    await ping(pingUuid);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 80_000, sweep_at: t0 + 60_000, alert_after: t0 + 110_000 });

    // At the old deadline the sweep only moves sweep_at on: nothing moved, nothing recorded.
    ctx.clock.set(t0 + 60_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(0);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 80_000, sweep_at: t0 + 80_000, alert_after: t0 + 110_000 });
    expect(await ctx.services.heartbeatSweep.run()).toBe(0);

    ctx.clock.set(t0 + 79_999);
    expect(await ctx.services.heartbeatSweep.run()).toBe(0);
    ctx.clock.set(t0 + 80_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toEqual({ status: 'grace', deadline_at: t0 + 110_000, sweep_at: t0 + 110_000, alert_after: t0 + 110_000 });
    ctx.clock.set(t0 + 109_999);
    expect(await ctx.services.heartbeatSweep.run()).toBe(0);
    ctx.clock.set(t0 + 110_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toEqual({ status: 'down', deadline_at: null, sweep_at: null, alert_after: null });
    expect((await flips(id)).map((f) => [f.to_state, f.at])).toEqual([
      ['up', t0],
      ['down', t0 + 110_000],
    ]);
    const incidents = await ctx.database.db.selectFrom('incidents').select(['state', 'reason']).where('monitor_id', '=', id).execute();
    expect(incidents).toEqual([{ state: 'open', reason: `no ping since ${iso(t0 + 20_000)}` }]);
  });

  it('a ping that brings the deadline sooner moves sweep_at: a check pinged in a long grace, a start', async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 3600 });
    const t0 = ctx.clock.now();
    await ping(pingUuid);
    ctx.clock.set(t0 + 60_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'grace', sweep_at: t0 + 3_660_000 });
    // Pinged in grace: expected again at t0 + 121 s, long before the sweep would have looked.
    ctx.clock.set(t0 + 61_000);
    await ping(pingUuid);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 121_000, sweep_at: t0 + 121_000, alert_after: t0 + 3_721_000 });
    ctx.clock.set(t0 + 121_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'grace' });

    // A start must end within the grace: sooner than the next expected ping here.
    const other = await createCheck({ name: 'job', timeoutSeconds: 3600, graceSeconds: 30 });
    await ping(other.pingUuid);
    ctx.clock.advance(1000);
    await ping(other.pingUuid, '/start');
    const started = ctx.clock.now();
    expect(await row(other.id)).toEqual({ status: 'up', deadline_at: started + 30_000, sweep_at: started + 30_000, alert_after: started + 30_000 });
    ctx.clock.set(started + 30_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(other.id)).toMatchObject({ status: 'down' });
  });

  it('a started run whose sweep_at lags is rescheduled, not cleared, and goes down at its end of grace', async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 600 });
    const t0 = ctx.clock.now();
    await ping(pingUuid, '/start'); // sweep_at = deadline = t0 + 600 s
    ctx.clock.set(t0 + 50_000);
    await ping(pingUuid); // up, expected at t0 + 110 s: sooner than sweep_at, which moves
    expect(await row(id)).toMatchObject({ status: 'up', deadline_at: t0 + 110_000, sweep_at: t0 + 110_000 });
    ctx.clock.set(t0 + 60_000);
    await ping(pingUuid, '/start'); // must end by min(t0 + 660 s, alert_after t0 + 710 s); still late at t0 + 110 s (a start changes no status)
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 110_000, sweep_at: t0 + 110_000, alert_after: t0 + 660_000 });
    ctx.clock.set(t0 + 110_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toEqual({ status: 'grace', deadline_at: t0 + 660_000, sweep_at: t0 + 660_000, alert_after: t0 + 660_000 });
    ctx.clock.set(t0 + 660_000);
    expect(await ctx.services.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'down' });
  });

  it('two workers sweeping at once move each check once', async () => {
    await start();
    const checks = [];
    for (let i = 0; i < 12; i++) checks.push(await createCheck({ name: `job ${i}` }));
    const t0 = ctx.clock.now();
    for (const check of checks) await ping(check.pingUuid);
    ctx.clock.set(t0 + 30_000);
    for (const check of checks.slice(0, 6)) await ping(check.pingUuid); // half of them lag
    // On PostgreSQL, a worker with connections of its own. SQLite has one process; a second sweep
    // there shares the connection (a second connection in this thread would block it, waiting for
    // the lock the first holds: better-sqlite3 is synchronous), and both read what is due before
    // either writes, so the compare-and-set decides as between two workers.
    const worker = dialect === 'sqlite' ? { heartbeatSweep: createHeartbeatSweep({ db: ctx.database.db, clock: ctx.clock, recorder: ctx.services.recorder }) } : await anotherProcess();

    ctx.clock.set(t0 + 60_000); // the others are late; the lagging half only reschedules
    const late = await Promise.all([ctx.services.heartbeatSweep.run(), worker.heartbeatSweep.run()]);
    expect(late[0] + late[1]).toBe(6);
    ctx.clock.set(t0 + 120_000); // every one is down: the first six after their grace, the others at t0 + 90 s
    const down = await Promise.all([ctx.services.heartbeatSweep.run(), worker.heartbeatSweep.run()]);
    expect(down[0] + down[1]).toBe(12);
    for (const check of checks) {
      expect((await flips(check.id)).map((f) => f.to_state)).toEqual(['up', 'down']);
      expect(await row(check.id)).toMatchObject({ status: 'down', sweep_at: null });
    }
  });

  // Between the sweep's read of what is due and its compare-and-set, a ping on another connection
  // (PostgreSQL: another worker or replica) must win. SQLite has one connection per process and
  // runs each transaction whole, so no ping can come between them there (and this test's hook,
  // run while the read holds that connection, would wait on itself). So these two exist on
  // PostgreSQL only (defined there, not skipped on SQLite).
  const onPostgres = dialect === 'postgres' ? it : () => undefined;
  onPostgres("a ping that lands between the sweep's read and its write wins, though it left sweep_at as it was", async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
    const t0 = ctx.clock.now();
    await ping(pingUuid);
    ctx.clock.set(t0 + 60_000);
    let pinged = false;
    const pingAfterRead: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      async transformResult({ result }) {
        if (!pinged) {
          pinged = true;
          await ping(pingUuid); // postpones the deadline to t0 + 120 s, leaves sweep_at at t0 + 60 s
        }
        return result;
      },
    };
    const sweep = createHeartbeatSweep({ db: ctx.database.db.withPlugin(pingAfterRead), clock: ctx.clock, recorder: ctx.services.recorder });
    expect(await sweep.run()).toBe(0);
    expect(pinged).toBe(true);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 120_000, sweep_at: t0 + 60_000, alert_after: t0 + 150_000 });
    expect(await ctx.services.heartbeatSweep.run()).toBe(0); // still due: now only moved on
    expect(await row(id)).toMatchObject({ status: 'up', sweep_at: t0 + 120_000 });
  });

  // The other way round: a sweep that comes while a ping is being written (PostgreSQL) must wait
  // for it, since the ping decided from its read whether sweep_at may stay; the ping's read locks
  // the check's row (ping-statements.ts). The hook holds the ping after that read until the sweep,
  // from another connection, is seen waiting on a lock.
  onPostgres('a sweep that comes while a ping is being written waits for it, then loses to it', async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
    const t0 = ctx.clock.now();
    await ping(pingUuid);
    ctx.clock.set(t0 + 60_000);
    const worker = await anotherProcess();
    const waitingOnLocks = async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(ctx.database.db);
      return rows[0]!.n > 0 ? true : undefined;
    };
    let sweeping: Promise<number> | undefined;
    const sweepAfterRead: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      async transformResult({ result }) {
        if (!sweeping) {
          sweeping = worker.heartbeatSweep.run(); // the ping has read its check: the first query
          await eventually(waitingOnLocks, 'the sweep to wait for the ping', 10_000, 20);
        }
        return result;
      },
    };
    const writer = createPingWriter({ db: ctx.database.db.withPlugin(sweepAfterRead), clock: ctx.clock, recorder: ctx.services.recorder });
    const input = { pingUuid, kind: 'success', exitStatus: null, rid: null, method: 'GET', remoteAddr: null, userAgent: null, body: null, bodySize: 0 } as const;
    expect(await writer.record(input)).toBe('success');
    expect(await sweeping).toBe(0);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 120_000, sweep_at: t0 + 60_000, alert_after: t0 + 150_000 });
  });

  it('after a restart, the new process sweeps a check whose sweep_at lags at the right moments', async () => {
    await start();
    const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
    const t0 = ctx.clock.now();
    await ping(pingUuid);
    ctx.clock.set(t0 + 45_000);
    await ping(pingUuid); // expected at t0 + 105 s, down at t0 + 135 s; sweep_at stays at t0 + 60 s
    await ctx.app.close(); // the first process stops taking pings

    const clock = new ManualClock(t0 + 60_000);
    const restarted = await anotherProcess(clock);
    expect(await restarted.heartbeatSweep.run()).toBe(0);
    expect(await row(id)).toEqual({ status: 'up', deadline_at: t0 + 105_000, sweep_at: t0 + 105_000, alert_after: t0 + 135_000 });
    clock.set(t0 + 104_999);
    expect(await restarted.heartbeatSweep.run()).toBe(0);
    clock.set(t0 + 105_000);
    expect(await restarted.heartbeatSweep.run()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'grace' });
    clock.set(t0 + 135_000);
    expect(await restarted.heartbeatSweep.run()).toBe(1);
    expect((await flips(id)).map((f) => [f.to_state, f.at])).toEqual([
      ['up', t0],
      ['down', t0 + 135_000],
    ]);
  });

  it('checks stored before migration 0010 are swept at their deadlines', async () => {
    const testDatabase: TestDatabase = await createTestDatabase(dialect);
    const database = await openDatabase(testDatabase.target);
    try {
      await createMigrator(database.db).migrateTo('2026_11_23_0008_metric_rules');
      const db = database.db as unknown as import('kysely').Kysely<any>;
      const t0 = Date.UTC(2026, 10, 21, 12, 0, 0);
      await db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: t0 }).execute();
      const heartbeat = (id: string, status: string, deadline: number | null) => ({
        monitor_id: id,
        tenant_id: 't1',
        ping_uuid: `${id}-ping`,
        badge_key: `${id}-badge`,
        timeout_seconds: 60,
        grace_seconds: 30,
        status,
        last_ping_at: t0,
        alert_after: deadline === null ? null : t0 + 90_000,
        deadline_at: deadline,
      });
      for (const [id, status, deadline] of [
        ['m1', 'up', t0 + 60_000],
        ['m2', 'new', null],
      ] as const) {
        await db
          .insertInto('monitors')
          .values({
            id,
            tenant_id: 't1',
            kind: 'heartbeat',
            name: id,
            is_active: 1,
            state: status === 'up' ? 'up' : 'pending',
            failure_threshold: 1,
            recovery_threshold: 1,
            state_changed_at: t0,
            created_at: t0,
            updated_at: t0,
          })
          .execute();
        await db
          .insertInto('heartbeat_checks')
          .values(heartbeat(id, status, deadline))
          .execute();
      }
      await migrateToLatest(database.db);
      const rows = await database.db.selectFrom('heartbeat_checks').select(['monitor_id', 'deadline_at', 'sweep_at']).orderBy('monitor_id').execute();
      expect(rows).toEqual([
        { monitor_id: 'm1', deadline_at: t0 + 60_000, sweep_at: t0 + 60_000 },
        { monitor_id: 'm2', deadline_at: null, sweep_at: null },
      ]);
      const clock = new ManualClock(t0 + 59_999);
      const services = createServices({ db: database.db, clock, secretKey: TEST_SECRET_KEY, jwtExpiresMinutes: 60 });
      expect(await services.heartbeatSweep.run()).toBe(0);
      clock.set(t0 + 60_000);
      expect(await services.heartbeatSweep.run()).toBe(1);
      expect(await database.db.selectFrom('heartbeat_checks').select('status').where('monitor_id', '=', 'm1').executeTakeFirstOrThrow()).toEqual({ status: 'grace' });
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });
});
