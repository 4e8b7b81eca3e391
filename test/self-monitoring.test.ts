/**
 * Self-monitoring on every dialect: who the operator's tenant is, provisioning of its self
 * checks (idempotent, respectful of a paused check), a self check against a real broken part
 * (Redis on a closed port) going down through the monitor core to an alert event and a
 * delivered webhook, the job-runner, scheduler and delivery probes with deliberately stalled
 * inputs under the manual clock (a real in-process job runner held by a gate, a real scheduler
 * tick, real alert events and notifications), and the background work that provisions the
 * checks and runs them through the ordinary scheduler.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessJobRunner } from '../src/jobs/in-process.js';
import { createLagStats } from '../src/monitors/lag-stats.js';
import { CHECK_JOB, createScheduler, type CheckJob } from '../src/monitors/scheduler.js';
import type { WebhookBody } from '../src/notify/providers/webhook.js';
import { createBackgroundWork } from '../src/runtime.js';
import type { RuntimeSignals } from '../src/self-monitoring/environment.js';
import { CLAIM_LAG_WINDOW_MS, watchCheckQueue } from '../src/self-monitoring/queue-watch.js';
import { createTenantWithKey, createTestApp, createUser, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { closedPort, StandIn } from './helpers/receivers.js';

const SEC = 1000;
const MIN = 60 * SEC;

/** A logger that keeps what it was told. */
function recordingLogger() {
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  const log = (level: 'info' | 'warn') => (first: unknown, second?: unknown) => {
    lines.push({ level, message: typeof first === 'string' ? first : String(second) });
  };
  return { lines, info: log('info'), warn: log('warn') };
}

const quietJobLogger = { error: () => {} };

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());

describe.each(TEST_DIALECTS)('self-monitoring on %s', (dialect) => {
  let ctx: TestContext;

  afterEach(async () => {
    standIn.reset();
    await ctx?.close();
  });

  const start = async (env: Record<string, string> = {}) => {
    ctx = await createTestApp(dialect, { env });
    return ctx;
  };

  const selfRows = (tenantId: string) =>
    ctx.database.db
      .selectFrom('self_checks')
      .innerJoin('monitors', 'monitors.id', 'self_checks.monitor_id')
      .select(['self_checks.service', 'self_checks.monitor_id', 'monitors.kind', 'monitors.name', 'monitors.state', 'monitors.interval_seconds', 'monitors.next_due_at'])
      .where('self_checks.tenant_id', '=', tenantId)
      .orderBy('self_checks.service')
      .execute();

  function runtimeWith(overrides: Partial<RuntimeSignals> = {}): RuntimeSignals {
    return {
      startedAt: ctx.clock.now(),
      checkQueue: { depth: () => 0, capacity: 200, oldestWaitingSince: () => null, worstClaimLagMs: () => null },
      alerting: { msSinceLastPass: () => 0 },
      ...overrides,
    };
  }

  describe('the operator tenant and provisioning', () => {
    it('is off, and says why once, without a superuser or SELF_MONITORING_TENANT', async () => {
      await start();
      const tenant = await createTenantWithKey(ctx, 'full', 'plain');
      await createUser(ctx, tenant.tenantId, { role: 'admin' });
      const logger = recordingLogger();
      expect(await ctx.services.selfMonitoring.provision(undefined, logger)).toBeUndefined();
      expect(logger.lines).toEqual([{ level: 'info', message: 'self-monitoring is off: there is no superuser (create one with `vigie bootstrap`) and SELF_MONITORING_TENANT is not set' }]);
      expect(await ctx.database.db.selectFrom('self_checks').selectAll().execute()).toEqual([]);
      expect(await ctx.database.db.selectFrom('monitors').selectAll().where('kind', '=', 'self').execute()).toEqual([]);
    });

    it("defaults to the oldest active superuser's tenant", async () => {
      await start();
      const first = await createTenantWithKey(ctx, 'full', 'first');
      const second = await createTenantWithKey(ctx, 'full', 'second');
      const third = await createTenantWithKey(ctx, 'full', 'third');
      const retired = await createUser(ctx, third.tenantId, { isSuperuser: true });
      await ctx.services.users.update(third.tenantId, retired.user.id, { isActive: false });
      ctx.clock.advance(SEC);
      await createUser(ctx, second.tenantId, { isSuperuser: true });
      ctx.clock.advance(SEC);
      await createUser(ctx, first.tenantId, { isSuperuser: true });
      const report = await ctx.services.selfMonitoring.provision(undefined, recordingLogger());
      expect(report).toEqual({ created: ['database', 'scheduler', 'delivery'], existing: [] });
      expect((await selfRows(second.tenantId)).map((r) => r.service)).toEqual(['database', 'delivery', 'scheduler']);
      expect(await selfRows(first.tenantId)).toEqual([]);
      expect(await selfRows(third.tenantId)).toEqual([]);
    });

    it('takes SELF_MONITORING_TENANT as an id or an exact name, and refuses an unknown or ambiguous one', async () => {
      await start();
      const ops = await createTenantWithKey(ctx, 'full', 'ops');
      await createTenantWithKey(ctx, 'full', 'twin');
      await createTenantWithKey(ctx, 'full', 'twin');
      const logger = recordingLogger();
      expect(await ctx.services.selfMonitoring.provision('twin', logger)).toBeUndefined();
      expect(await ctx.services.selfMonitoring.provision('Ops', logger)).toBeUndefined();
      expect(logger.lines).toEqual([
        { level: 'warn', message: 'self-monitoring is off: several tenants are named "twin": set SELF_MONITORING_TENANT to the id of one' },
        { level: 'warn', message: 'self-monitoring is off: SELF_MONITORING_TENANT="Ops" is neither the id nor the name of a tenant' },
      ]);
      expect(await ctx.services.selfMonitoring.provision(ops.tenantId, logger)).toMatchObject({ created: ['database', 'scheduler', 'delivery'] });
      expect(await ctx.services.selfMonitoring.provision('ops', logger)).toEqual({ created: [], existing: ['database', 'scheduler', 'delivery'] });
    });

    it("creates one check per part this process can check, with the seed's intervals; twice changes nothing; a paused check stays paused", async () => {
      await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
      const ops = await createTenantWithKey(ctx, 'full', 'ops');
      ctx.services.selfMonitoring.attachRuntime(runtimeWith());
      const logger = recordingLogger();
      const now = ctx.clock.now();
      expect(await ctx.services.selfMonitoring.provision('ops', logger)).toEqual({ created: ['database', 'redis', 'job-runner', 'scheduler', 'delivery'], existing: [] });
      expect(logger.lines).toEqual([{ level: 'info', message: 'self-monitoring: created the self checks of SELF_MONITORING_TENANT names tenant "ops"' }]);
      const rows = await selfRows(ops.tenantId);
      expect(rows.map(({ monitor_id: _id, ...row }) => row)).toEqual([
        { service: 'database', kind: 'self', name: 'Vigie database', state: 'pending', interval_seconds: 30, next_due_at: now },
        { service: 'delivery', kind: 'self', name: 'Vigie notification delivery', state: 'pending', interval_seconds: 60, next_due_at: now },
        { service: 'job-runner', kind: 'self', name: 'Vigie job runner', state: 'pending', interval_seconds: 60, next_due_at: now },
        { service: 'redis', kind: 'self', name: 'Vigie Redis', state: 'pending', interval_seconds: 30, next_due_at: now },
        { service: 'scheduler', kind: 'self', name: 'Vigie scheduler', state: 'pending', interval_seconds: 60, next_due_at: now },
      ]);

      const redis = rows.find((r) => r.service === 'redis')!.monitor_id;
      await ctx.services.watchedChecks.pause(ops.tenantId, redis);
      ctx.clock.advance(MIN);
      expect(await ctx.services.selfMonitoring.provision('ops', logger)).toEqual({ created: [], existing: ['database', 'redis', 'job-runner', 'scheduler', 'delivery'] });
      const again = await selfRows(ops.tenantId);
      expect(again.map((r) => r.monitor_id)).toEqual(rows.map((r) => r.monitor_id));
      expect(again.find((r) => r.service === 'redis')).toMatchObject({ state: 'paused', next_due_at: null });
      expect(await ctx.database.db.selectFrom('monitors').select('id').where('kind', '=', 'self').execute()).toHaveLength(5);

      // A deleted one comes back at the next start (pausing is the way to silence one).
      await ctx.services.monitors.remove(ops.tenantId, redis);
      expect(await ctx.services.selfMonitoring.provision('ops', logger)).toEqual({ created: ['redis'], existing: ['database', 'job-runner', 'scheduler', 'delivery'] });
      expect(await ctx.database.db.selectFrom('monitors').select('id').where('kind', '=', 'self').execute()).toHaveLength(5);
    });
  });

  it('a self check whose part is broken goes down through the monitor core and reaches an alert event and a webhook', async () => {
    await start({ SELF_MONITORING_TENANT: 'ops', REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    const ops = await createTenantWithKey(ctx, 'full', 'ops');
    const headers = { 'x-api-key': ops.apiKey };
    expect((await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { alert_grouping_enabled: false } })).statusCode).toBe(200);
    const channel = await ctx.app.inject({ method: 'POST', url: '/api/v1/channels', headers, payload: { name: 'ops hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } } });
    expect(channel.statusCode, channel.body).toBe(201);
    await ctx.services.selfMonitoring.provision('ops', recordingLogger());
    const redis = (await selfRows(ops.tenantId)).find((r) => r.service === 'redis')!.monitor_id;

    const first = await ctx.services.checks.runNow(redis);
    expect(first).toMatchObject({ status: 'down', message: expect.stringMatching(/^Redis does not answer: /) });
    expect(first?.flip).toBeUndefined(); // one failure; the tenant's threshold is 2
    ctx.clock.advance(30 * SEC);
    const second = await ctx.services.checks.runNow(redis);
    expect(second?.flip).toMatchObject({ fromState: 'pending', toState: 'down' });

    const events = await ctx.app.inject({ method: 'GET', url: `/api/v1/alerts/events?monitor=${redis}`, headers });
    expect(events.json().items).toEqual([expect.objectContaining({ monitor_id: redis, to_state: 'down' })]);
    const incidents = await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents?monitor=${redis}`, headers });
    expect(JSON.stringify(incidents.json())).toContain('"state":"open"');

    await ctx.services.alertRouter.routeBatch();
    expect(await ctx.services.delivery.deliverDue()).toBe(1);
    expect(standIn.recorded).toHaveLength(1);
    const body = JSON.parse(standIn.recorded[0]!.body) as WebhookBody;
    expect(body.items).toEqual([expect.objectContaining({ monitor_id: redis, monitor_name: 'Vigie Redis', monitor_kind: 'self', from_state: 'pending', to_state: 'down' })]);
    expect(body.items[0]!.reason).toMatch(/^Redis does not answer: /);
  });

  describe('probes with stalled inputs', () => {
    let ops: TenantFixture;
    const check = (service: string) => ctx.services.selfMonitoring.checkNow(service, { tenantId: ops.tenantId, superuser: false });

    async function startWithOps(env: Record<string, string> = {}) {
      await start({ SELF_MONITORING_TENANT: 'ops', ...env });
      ops = await createTenantWithKey(ctx, 'full', 'ops');
    }

    it('job-runner: a check that waits to start is a warning past 30 s and down past 2 min; a full queue is a warning', async () => {
      await startWithOps();
      const jobs = watchCheckQueue(createInProcessJobRunner(quietJobLogger), { clock: ctx.clock, capacity: 3 });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const started: string[] = [];
      jobs.define<CheckJob>(
        CHECK_JOB,
        async (job) => {
          started.push(job.monitorId);
          await gate;
        },
        { concurrency: 1 },
      );
      ctx.services.selfMonitoring.attachRuntime(runtimeWith({ checkQueue: jobs.checkQueue }));
      const due = ctx.clock.now();

      await jobs.enqueue<CheckJob>(CHECK_JOB, { monitorId: 'hung', dueAt: due }); // takes the only slot
      ctx.clock.advance(10 * SEC);
      await jobs.enqueue<CheckJob>(CHECK_JOB, { monitorId: 'waiting', dueAt: due });
      expect(started).toEqual(['hung']);
      expect(await check('job-runner')).toMatchObject({ status: 'up', message: '2 check(s) queued or running, room for 3' });

      ctx.clock.advance(31 * SEC);
      expect(await check('job-runner')).toMatchObject({ status: 'warning', message: 'the oldest queued check has waited 31 s to start (2 queued or running)' });
      await jobs.enqueue<CheckJob>(CHECK_JOB, { monitorId: 'third', dueAt: due });
      expect(await check('job-runner')).toMatchObject({
        status: 'warning',
        message: 'the oldest queued check has waited 31 s to start (3 queued or running); the check queue is full (3 of 3): due checks wait for room',
      });
      ctx.clock.advance(90 * SEC);
      expect(await check('job-runner')).toMatchObject({
        status: 'down',
        message: 'the oldest queued check has waited 2 min 1 s to start (3 queued or running); the check queue is full (3 of 3): due checks wait for room',
      });

      release();
      await jobs.idle();
      expect(started).toEqual(['hung', 'waiting', 'third']);
      expect(await check('job-runner')).toMatchObject({ status: 'up', message: '0 check(s) queued or running, room for 3' });
      await jobs.stop();
    });

    it('scheduler: a due check nobody claims, then a late claim, grade by their lateness until the window forgets', async () => {
      await startWithOps();
      expect(await check('scheduler')).toMatchObject({ status: 'up', message: 'no due check is waiting to be claimed' });
      const target = await ctx.services.httpTargets.create(ops.tenantId, { name: 'site', url: 'http://127.0.0.1:9/', checkIntervalSeconds: 60 });
      ctx.clock.advance(45 * SEC);
      expect(await check('scheduler')).toMatchObject({ status: 'warning', message: 'the oldest due check has waited 45 s to be claimed' });
      ctx.clock.advance(85 * SEC);
      expect(await check('scheduler')).toMatchObject({ status: 'down', message: 'the oldest due check has waited 2 min 10 s to be claimed' });

      // A real scheduler tick claims it, 130 s late, through the watched queue.
      const jobs = watchCheckQueue(createInProcessJobRunner(quietJobLogger), { clock: ctx.clock, capacity: 10 });
      jobs.define<CheckJob>(CHECK_JOB, async () => {}, { concurrency: 1 });
      ctx.services.selfMonitoring.attachRuntime(runtimeWith({ checkQueue: jobs.checkQueue }));
      const scheduler = createScheduler({ db: ctx.database.db, clock: ctx.clock, jobs, maxQueued: 10, logger: { warn: () => {} } });
      expect(await scheduler.tick()).toBe(1);
      await jobs.idle();
      await ctx.services.monitors.pause(ops.tenantId, target); // not due again
      expect(await check('scheduler')).toMatchObject({
        status: 'down',
        message: 'checks were claimed at most 2 min 10 s late in the last 5 min; no due check is waiting to be claimed',
      });
      ctx.clock.advance(CLAIM_LAG_WINDOW_MS + SEC);
      expect(await check('scheduler')).toMatchObject({ status: 'up', message: 'no due check is waiting to be claimed' });
      expect(jobs.checkQueue.worstClaimLagMs()).toBeNull();
      await jobs.stop();
    });

    it('delivery: a silent alerting loop, an event nobody routes and a notification nobody sends', async () => {
      await startWithOps();
      let sincePass: number | null = null;
      ctx.services.selfMonitoring.attachRuntime(runtimeWith({ alerting: { msSinceLastPass: () => sincePass } }));
      expect(await check('delivery')).toMatchObject({ status: 'up', message: 'the alerting loop has not completed a pass since it started 0.0 s ago; no notification is overdue' });
      ctx.clock.advance(45 * SEC);
      expect(await check('delivery')).toMatchObject({ status: 'warning', message: 'the alerting loop has not completed a pass since it started 45 s ago; no notification is overdue' });
      sincePass = 130 * SEC;
      expect(await check('delivery')).toMatchObject({ status: 'down', message: 'the alerting loop completed a pass 2 min 10 s ago; no notification is overdue' });
      sincePass = 300;
      expect(await check('delivery')).toMatchObject({ status: 'up', message: 'the alerting loop completed a pass 0.3 s ago; no notification is overdue' });

      // A real alert: an HTTP target down at its first failure, with a webhook channel.
      await ctx.services.settings.update(ops.tenantId, { alertGroupingEnabled: false });
      await ctx.services.channels.create(ops.tenantId, { name: 'hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } });
      const target = await ctx.services.httpTargets.create(ops.tenantId, { name: 'site', url: 'http://127.0.0.1:9/', failureThreshold: 1 });
      expect((await ctx.services.recorder.record(target, { status: 'down', message: 'connection refused' }))?.flip).toMatchObject({
        monitorId: target,
        fromState: 'pending',
        toState: 'down',
        reason: 'connection refused',
      });
      ctx.clock.advance(61 * SEC);
      expect(await check('delivery')).toMatchObject({
        status: 'warning',
        message: '1 alert event(s) not routed yet, the oldest for 1 min 1 s; the alerting loop completed a pass 0.3 s ago; no notification is overdue',
      });

      await ctx.services.alertRouter.routeBatch();
      expect(await check('delivery')).toMatchObject({ status: 'up' });
      ctx.clock.advance(6 * MIN);
      expect(await check('delivery')).toMatchObject({ status: 'down', message: '1 notification(s) due, the oldest overdue by 6 min; the alerting loop completed a pass 0.3 s ago' });
      expect(await ctx.services.delivery.deliverDue()).toBe(1);
      expect(await check('delivery')).toMatchObject({ status: 'up', message: 'the alerting loop completed a pass 0.3 s ago; no notification is overdue' });
    });
  });

  it('background work provisions the self checks at start and the ordinary scheduler runs them', async () => {
    await start();
    const ops = await createTenantWithKey(ctx, 'full', 'ops');
    await createUser(ctx, ops.tenantId, { isSuperuser: true });
    const logger = Object.assign(recordingLogger(), { error: () => {}, debug: () => {} });
    const background = createBackgroundWork({
      db: ctx.database.db,
      clock: ctx.clock,
      config: ctx.config,
      services: ctx.services,
      logger: logger as never,
      lagStats: createLagStats(),
    });
    await background.start();
    try {
      expect(logger.lines).toContainEqual({ level: 'info', message: "self-monitoring: created the self checks of the oldest superuser's tenant" });
      const rows = await selfRows(ops.tenantId);
      expect(rows.map((r) => r.service)).toEqual(['database', 'delivery', 'job-runner', 'scheduler']);
      // Each runs once (due at provisioning; the manual clock never makes them due again) and is up.
      const states = await eventually(async () => {
        const now = await selfRows(ops.tenantId);
        return now.every((r) => r.state !== 'pending') ? now.map((r) => `${r.service}:${r.state}`) : undefined;
      }, 'every self check to have run');
      expect(states).toEqual(['database:up', 'delivery:up', 'job-runner:up', 'scheduler:up']);
    } finally {
      await background.stop();
    }
  });
});
