/**
 * The embedded scheduler and the in-process job runner, on real databases, driven by the
 * manual clock: claims and cadence, two schedulers racing for the same slots, no burst after
 * falling behind or after a restart (spread with a pinned jitter), back-pressure, pause, and
 * the runner's concurrency limit and clean stop.
 *
 * The job handler is the test's own: it records which slot ran, so every assertion is about
 * what the scheduler claimed, not about what a probe answered.
 */
import { checkResultsHistory } from '../src/monitors/results-history.js';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { createInProcessJobRunner } from '../src/jobs/in-process.js';
import type { JobRunner } from '../src/jobs/job-runner.js';
import type { Logger } from '../src/logger.js';
import { insertMonitor } from '../src/monitors/monitors.repository.js';
import { CHECK_JOB, createScheduler, nextSlot, phaseOf, type CheckJob, type SchedulerOptions } from '../src/monitors/scheduler.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const SECOND = 1000;

interface Ran extends CheckJob {
  /** Clock time when the handler ran. */
  ranAt: number;
}

/** A logger that keeps what it is told, so a test can check that nothing failed. */
function recordingLogger() {
  const lines: { level: string; args: unknown[] }[] = [];
  const logger = {
    error: (...args: unknown[]) => lines.push({ level: 'error', args }),
    warn: (...args: unknown[]) => lines.push({ level: 'warn', args }),
  } as unknown as Pick<Logger, 'error' | 'warn'>;
  return { logger, lines };
}

/** Resolves after the pending promise callbacks and I/O callbacks have run (no clock involved). */
const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** A gate that blocked handlers wait on until the test opens it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe.each(TEST_DIALECTS)('scheduler on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
  }

  let urlCounter = 0;
  const createMonitor = (intervalSeconds = 60) =>
    ctx.services.httpTargets.create(tenant.tenantId, { name: `m${++urlCounter}`, url: `http://127.0.0.1:9/${urlCounter}`, checkIntervalSeconds: intervalSeconds });

  const nextDueAt = async (monitorId: string, db = ctx.database.db) => (await db.selectFrom('monitors').select('next_due_at').where('id', '=', monitorId).executeTakeFirstOrThrow()).next_due_at;

  const setNextDueAt = (monitorId: string, at: number | null) => ctx.database.db.updateTable('monitors').set({ next_due_at: at }).where('id', '=', monitorId).execute();

  /** A scheduler and runner pair whose handler records each slot it ran. */
  function harness(
    options: {
      maxQueued?: number;
      concurrency?: number;
      handler?: (job: CheckJob) => Promise<void>;
      random?: () => number;
      database?: DatabaseHandle;
      /** Defaults to 0 so that exact-time tests see slots on the whole-interval grid (t0 is on it). */
      phase?: SchedulerOptions['phase'];
    } = {},
  ) {
    const ran: Ran[] = [];
    const { logger, lines } = recordingLogger();
    const jobs: JobRunner = createInProcessJobRunner(logger);
    jobs.define<CheckJob>(
      CHECK_JOB,
      async (job) => {
        ran.push({ ...job, ranAt: ctx.clock.now() });
        await options.handler?.(job);
      },
      { concurrency: options.concurrency ?? 10 },
    );
    const schedulerOptions: SchedulerOptions = {
      db: (options.database ?? ctx.database).db,
      clock: ctx.clock,
      jobs,
      maxQueued: options.maxQueued ?? 1000,
      logger,
      ...(options.random && { random: options.random }),
      phase: options.phase ?? (() => 0),
    };
    const scheduler = createScheduler(schedulerOptions);
    cleanups.push(async () => {
      await scheduler.stop();
      await jobs.stop();
    });
    return { scheduler, jobs, ran, lines };
  }

  it('claims a due monitor once per tick and moves next_due_at by its interval, keeping the cadence', async () => {
    await start();
    const id = await createMonitor(60);
    const t0 = ctx.clock.now();
    expect(await nextDueAt(id)).toBe(t0);
    const { scheduler, jobs, ran, lines } = harness();

    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran).toEqual([{ monitorId: id, dueAt: t0, ranAt: t0 }]);
    expect(await nextDueAt(id)).toBe(t0 + 60 * SECOND);

    // The same instant again: the slot is taken, nothing runs.
    expect(await scheduler.tick()).toBe(0);
    // Not due yet.
    ctx.clock.advance(59 * SECOND);
    expect(await scheduler.tick()).toBe(0);
    await jobs.idle();
    expect(ran).toHaveLength(1);

    // One interval after the first slot it runs again.
    ctx.clock.advance(1 * SECOND);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran.map((r) => r.dueAt)).toEqual([t0, t0 + 60 * SECOND]);
    expect(await nextDueAt(id)).toBe(t0 + 120 * SECOND);

    // A tick that comes late (here 7 s) runs the slot, and the next slot keeps the cadence:
    // previous due time + interval, not start time + interval.
    ctx.clock.advance(67 * SECOND);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran.at(-1)).toEqual({ monitorId: id, dueAt: t0 + 120 * SECOND, ranAt: t0 + 127 * SECOND });
    expect(await nextDueAt(id)).toBe(t0 + 180 * SECOND);
    expect(lines).toEqual([]);
  });

  it('each monitor follows its own interval', async () => {
    await start();
    const fast = await createMonitor(10);
    const slow = await createMonitor(30);
    const t0 = ctx.clock.now();
    const { scheduler, jobs, ran } = harness();
    for (let s = 0; s <= 60; s += 5) {
      ctx.clock.set(t0 + s * SECOND);
      await scheduler.tick();
    }
    await jobs.idle();
    const slots = (id: string) => ran.filter((r) => r.monitorId === id).map((r) => (r.dueAt - t0) / SECOND);
    expect(slots(fast)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(slots(slow)).toEqual([0, 30, 60]);
    // Each ran at its slot's time: ticks came on time.
    expect(ran.every((r) => r.ranAt === r.dueAt)).toBe(true);
  });

  it('does not claim a monitor that is not due, nor one without a next_due_at (paused, passive)', async () => {
    await start();
    const later = await createMonitor(60);
    const paused = await createMonitor(60);
    const t0 = ctx.clock.now();
    await setNextDueAt(later, t0 + 1);
    await ctx.services.monitors.pause(tenant.tenantId, paused);
    expect(await nextDueAt(paused)).toBeNull();
    // A passive monitor: no interval, no next_due_at.
    await insertMonitor(ctx.database.db, {
      id: randomUUID(),
      tenantId: tenant.tenantId,
      kind: 'heartbeat',
      name: 'passive',
      tags: [],
      isActive: true,
      failureThreshold: null,
      recoveryThreshold: 1,
      intervalSeconds: null,
      nextDueAt: null,
      now: t0,
    });

    const { scheduler, jobs, ran } = harness();
    expect(await scheduler.tick()).toBe(0);
    ctx.clock.advance(1);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran.map((r) => r.monitorId)).toEqual([later]);

    // Days later the paused monitor still never ran.
    for (let day = 1; day <= 3; day++) {
      ctx.clock.advance(86_400 * SECOND);
      await scheduler.tick();
    }
    await jobs.idle();
    expect(ran.some((r) => r.monitorId === paused)).toBe(false);
    expect(await nextDueAt(paused)).toBeNull();

    // Resumed, it is due at once and claimed by the next tick.
    const resumedAt = ctx.clock.now();
    await ctx.services.monitors.resume(tenant.tenantId, paused);
    expect(await nextDueAt(paused)).toBe(resumedAt);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran.at(-1)).toEqual({ monitorId: paused, dueAt: resumedAt, ranAt: resumedAt });
  });

  it('a monitor more than one interval behind runs once and skips the missed slots (no burst)', async () => {
    await start();
    const id = await createMonitor(60);
    const t0 = ctx.clock.now();
    const { scheduler, jobs, ran } = harness();
    // 3.5 intervals without a tick (the process was busy or stopped).
    ctx.clock.advance(210 * SECOND);
    expect(await scheduler.tick()).toBe(1);
    expect(await scheduler.tick()).toBe(0);
    await jobs.idle();
    expect(ran).toEqual([{ monitorId: id, dueAt: t0, ranAt: t0 + 210 * SECOND }]);
    // Next run at the monitor's next slot after now (its grid: t0 + k × 60 s), not four catch-up runs.
    expect(await nextDueAt(id)).toBe(t0 + 240 * SECOND);
    expect(nextSlot(t0, 60 * SECOND, t0 + 210 * SECOND)).toBe(t0 + 240 * SECOND);
    ctx.clock.set(t0 + 240 * SECOND - 1);
    expect(await scheduler.tick()).toBe(0);
    ctx.clock.set(t0 + 240 * SECOND);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    expect(ran.map((r) => r.dueAt - t0)).toEqual([0, 240 * SECOND]);
  });

  it('two schedulers ticking at the same time never both claim a slot', async () => {
    await start();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await createMonitor(60));
    const t0 = ctx.clock.now();
    // On PostgreSQL the second scheduler has its own connection pool, as a second worker
    // process would. SQLite is embedded (one process, one connection): both share it.
    let secondDatabase = ctx.database;
    if (dialect === 'postgres') {
      secondDatabase = await openDatabase(ctx.database.target);
      cleanups.push(() => secondDatabase.close());
    }
    const a = harness();
    const b = harness({ database: secondDatabase });

    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const [claimedA, claimedB] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      expect(claimedA + claimedB, `round ${round}`).toBe(ids.length);
      // And a second simultaneous pair in the same instant finds nothing left.
      expect(await Promise.all([a.scheduler.tick(), b.scheduler.tick()])).toEqual([0, 0]);
      await Promise.all([a.jobs.idle(), b.jobs.idle()]);
      ctx.clock.advance(60 * SECOND);
    }

    const all = [...a.ran, ...b.ran];
    expect(all).toHaveLength(ids.length * rounds);
    const slots = new Set(all.map((r) => `${r.monitorId}@${r.dueAt}`));
    expect(slots.size).toBe(all.length); // no slot ran twice
    for (const id of ids) {
      expect(
        all
          .filter((r) => r.monitorId === id)
          .map((r) => (r.dueAt - t0) / SECOND)
          .sort((x, y) => x - y),
      ).toEqual(Array.from({ length: rounds }, (_, i) => i * 60));
    }
    expect([...a.lines, ...b.lines]).toEqual([]);
  });

  it('spreadOverdue spreads overdue monitors over their interval with the jitter, oldest first, and forgets none', async () => {
    await start();
    const t0 = ctx.clock.now();
    const intervals = [60, 120, 300];
    const monitors: { id: string; interval: number }[] = [];
    for (let i = 0; i < 100; i++) {
      const interval = intervals[i % 3]!;
      const id = await createMonitor(interval);
      // Overdue by 1000 s down to 1 s: monitor i is the i-th oldest.
      await setNextDueAt(id, t0 - (1000 - i * 10) * SECOND);
      monitors.push({ id, interval });
    }
    const notOverdue = await createMonitor(60);
    await setNextDueAt(notOverdue, t0 + 5 * SECOND);
    const dueNow = await createMonitor(60); // next_due_at = t0: due, but not late

    // Draws 0, 1/128, 2/128, …: binary fractions, so each product with an interval is exact.
    let calls = 0;
    const random = () => calls++ / 128;
    const spreadTo = (i: number, interval: number) => t0 + Math.floor((i * interval * SECOND) / 128);
    const { scheduler, jobs, ran } = harness({ random });

    expect(await scheduler.spreadOverdue()).toBe(100);
    expect(calls).toBe(100);
    for (const [i, m] of monitors.entries()) {
      const stored = await nextDueAt(m.id);
      expect(stored, `monitor ${i}`).toBe(spreadTo(i, m.interval));
      expect(stored! - t0).toBeLessThan(m.interval * SECOND);
    }
    expect(await nextDueAt(notOverdue)).toBe(t0 + 5 * SECOND);
    expect(await nextDueAt(dueNow)).toBe(t0);

    // No burst: right now only the monitor that drew 0 and the one due now are claimed.
    expect(await scheduler.tick()).toBe(2);
    await jobs.idle();
    expect(ran.map((r) => r.monitorId).sort()).toEqual([monitors[0]!.id, dueNow].sort());

    // Ticking every second through the longest interval runs every spread monitor exactly
    // once at its spread slot, and the ones with short intervals again at their next grid slot.
    for (let s = 1; s <= 300; s++) {
      ctx.clock.set(t0 + s * SECOND);
      await scheduler.tick();
    }
    await jobs.idle();
    for (const [i, m] of monitors.entries()) {
      const expected: number[] = [];
      const intervalMs = m.interval * SECOND;
      for (let due = spreadTo(i, m.interval); due <= t0 + 300 * SECOND; due = nextSlot(due, intervalMs, due, 0)) expected.push(due);
      const got = ran.filter((r) => r.monitorId === m.id);
      expect(
        got.map((r) => r.dueAt),
        `monitor ${i}`,
      ).toEqual(expected);
      // Each slot ran within the second after it fell due.
      expect(got.every((r) => r.ranAt >= r.dueAt && r.ranAt - r.dueAt < SECOND)).toBe(true);
    }
  });

  it('monitors created at the same instant are spread over their interval by their phase', async () => {
    await start();
    const t0 = ctx.clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await createMonitor(60));
    const { scheduler, jobs } = harness({ phase: phaseOf });
    expect(await scheduler.tick()).toBe(300); // every first check runs at once
    await jobs.idle();
    const slots = await Promise.all(ids.map((id) => nextDueAt(id)));
    for (const [i, slot] of slots.entries()) {
      expect(slot! - t0).toBeGreaterThan(0);
      expect(slot! - t0).toBeLessThanOrEqual(60 * SECOND);
      expect((slot! - phaseOf(ids[i]!, 60 * SECOND)) % (60 * SECOND)).toBe(0);
    }
    // Spread, not clumped: each 10-second sixth of the interval holds about a sixth of them
    // (50 expected; 20 is more than four standard deviations below).
    const perSixth = [0, 0, 0, 0, 0, 0];
    for (const slot of slots) perSixth[Math.min(5, Math.floor((slot! - t0 - 1) / (10 * SECOND)))]! += 1;
    for (const count of perSixth) expect(count).toBeGreaterThan(20);
  });

  it('spreadOverdue on an up-to-date database changes nothing', async () => {
    await start();
    const id = await createMonitor(60);
    const t0 = ctx.clock.now();
    const { scheduler } = harness({ random: () => 0.5 });
    expect(await scheduler.spreadOverdue()).toBe(0);
    expect(await nextDueAt(id)).toBe(t0);
  });

  it('back-pressure: with maxQueued 5 a tick claims at most 5, and the rest keep their next_due_at', async () => {
    await start();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await createMonitor(60));
    const t0 = ctx.clock.now();
    let release = gate();
    const { scheduler, jobs, ran } = harness({ maxQueued: 5, concurrency: 2, handler: () => release.opened });

    expect(await scheduler.tick()).toBe(5);
    await flush();
    expect(jobs.depth(CHECK_JOB)).toBe(5);
    expect(ran).toHaveLength(2); // the concurrency limit of the runner: 2 running, 3 waiting
    const claimed = new Set(ran.map((r) => r.monitorId));
    // The queue is full: no more claims, however much time passes.
    expect(await scheduler.tick()).toBe(0);
    ctx.clock.advance(10 * SECOND);
    expect(await scheduler.tick()).toBe(0);

    const stored = await ctx.database.db.selectFrom('monitors').select(['id', 'next_due_at']).execute();
    const moved = stored.filter((m) => m.next_due_at === t0 + 60 * SECOND);
    const waiting = stored.filter((m) => m.next_due_at === t0);
    expect(moved).toHaveLength(5);
    expect(waiting).toHaveLength(7);
    for (const id of claimed) expect(moved.map((m) => m.id)).toContain(id);

    // Once the queue drains the others are claimed, 5 at a time.
    release.open();
    await jobs.idle();
    expect(ran).toHaveLength(5);
    release = gate();
    expect(await scheduler.tick()).toBe(5);
    release.open();
    await jobs.idle();
    expect(await scheduler.tick()).toBe(2);
    await jobs.idle();
    expect(ran).toHaveLength(12);
    expect(new Set(ran.map((r) => r.monitorId))).toEqual(new Set(ids));
    // Every job carries the slot it fills, so the lag of those held back is measurable.
    expect(ran.every((r) => r.dueAt === t0)).toBe(true);
    expect(ran.map((r) => r.ranAt - t0)).toEqual([0, 0, ...Array(10).fill(10 * SECOND)]);
  });

  it('the real check runner as handler: a scheduled check records its result', async () => {
    await start();
    const id = await createMonitor(60);
    const { scheduler, jobs } = harness({ handler: (job) => ctx.services.checks.runScheduled(job) });
    ctx.clock.advance(3 * SECOND);
    expect(await scheduler.tick()).toBe(1);
    await jobs.idle();
    const results = await checkResultsHistory().latest(ctx.database.db, id, { limit: 10 });
    expect(results.map((r) => ({ status: r.status, at: r.at }))).toEqual([{ status: 'down', at: ctx.clock.now() }]);
    expect(await nextDueAt(id)).toBe(ctx.clock.now() - 3 * SECOND + 60 * SECOND);
  });
});

describe('in-process job runner', () => {
  it('never runs more than its concurrency at once, and runs every job', async () => {
    const { logger, lines } = recordingLogger();
    const jobs = createInProcessJobRunner(logger);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const gates: ReturnType<typeof gate>[] = [];
    jobs.define<number>(
      'work',
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        const g = gate();
        gates.push(g);
        await g.opened;
        running--;
        done.push(n);
      },
      { concurrency: 3 },
    );
    for (let n = 0; n < 20; n++) await jobs.enqueue('work', n);
    expect(jobs.depth('work')).toBe(20);
    expect(running).toBe(3);

    // Release the running jobs one at a time; each release lets exactly one waiting job start.
    let released = 0;
    while (done.length < 20) {
      // Three started at first, and one more for each release so far, until all 20 have.
      expect(gates, 'jobs started').toHaveLength(Math.min(20, 3 + released));
      const next = gates[released++];
      next!.open();
      await flush();
      expect(running).toBeLessThanOrEqual(3);
      expect(jobs.depth('work')).toBe(20 - done.length);
    }
    await jobs.idle();
    expect(peak).toBe(3);
    expect(done).toEqual(Array.from({ length: 20 }, (_, n) => n)); // FIFO
    expect(lines).toEqual([]);
  });

  it('keeps one limit per job name', async () => {
    const jobs = createInProcessJobRunner(recordingLogger().logger);
    const running = { a: 0, b: 0 };
    const g = gate();
    jobs.define(
      'a',
      async () => {
        running.a++;
        await g.opened;
      },
      { concurrency: 1 },
    );
    jobs.define(
      'b',
      async () => {
        running.b++;
        await g.opened;
      },
      { concurrency: 4 },
    );
    for (let i = 0; i < 6; i++) {
      await jobs.enqueue('a', i);
      await jobs.enqueue('b', i);
    }
    expect(running).toEqual({ a: 1, b: 4 });
    expect([jobs.depth('a'), jobs.depth('b'), jobs.depth('unknown')]).toEqual([6, 6, 0]);
    g.open();
    await jobs.idle();
    expect(running).toEqual({ a: 6, b: 6 });
    await expect(jobs.enqueue('unknown', 1)).rejects.toThrow('No job named "unknown" is defined');
  });

  it('a failing job is logged and frees its slot, whether it rejects or throws at once', async () => {
    const { logger, lines } = recordingLogger();
    const jobs = createInProcessJobRunner(logger);
    const ran: string[] = [];
    jobs.define<string>(
      'work',
      ((name: string) => {
        ran.push(name);
        if (name === 'throws') throw new Error('thrown before any await');
        if (name === 'rejects') return Promise.reject(new Error('rejected'));
        return Promise.resolve();
      }) as (name: string) => Promise<void>,
      { concurrency: 1 },
    );
    for (const name of ['throws', 'rejects', 'ok']) await jobs.enqueue('work', name);
    await jobs.idle();
    expect(ran).toEqual(['throws', 'rejects', 'ok']);
    expect(lines.map((l) => l.level)).toEqual(['error', 'error']);
    expect(jobs.depth('work')).toBe(0);
  });

  it('stop() waits for running jobs, drops waiting ones and takes no new work', async () => {
    const jobs = createInProcessJobRunner(recordingLogger().logger);
    const started: number[] = [];
    const finished: number[] = [];
    const g = gate();
    jobs.define<number>(
      'work',
      async (n) => {
        started.push(n);
        await g.opened;
        finished.push(n);
      },
      { concurrency: 2 },
    );
    for (let n = 0; n < 5; n++) await jobs.enqueue('work', n);
    expect(started).toEqual([0, 1]);

    let stopped = false;
    const stopping = jobs.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false); // still waiting for the two running jobs
    expect(jobs.depth('work')).toBe(2);

    await jobs.enqueue('work', 99);
    g.open();
    await stopping;
    expect(finished).toEqual([0, 1]);
    expect(started).toEqual([0, 1]); // 2, 3, 4 were waiting and are dropped; 99 came after stop
    expect(jobs.depth('work')).toBe(0);
  });

  it('stop() with nothing running resolves at once, and works detached from the runner', async () => {
    const jobs = createInProcessJobRunner(recordingLogger().logger);
    jobs.define('work', async () => {}, { concurrency: 1 });
    const { stop } = jobs;
    await stop();
    await jobs.enqueue('work', 1);
    expect(jobs.depth('work')).toBe(0);
  });
});
