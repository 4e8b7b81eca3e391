/**
 * Recording pings, the hottest path of the server. A ping is acknowledged only once it is
 * committed, and pings are committed in batches: whatever arrives while a batch is being
 * written goes into the next one, so a burst of thousands of pings costs a few commits (on
 * SQLite each commit waits for the disk), not one each. Each ping updates its check's status and
 * deadlines, is numbered (n), measures run time against its start, and — for a success or a
 * failure — is recorded as a result of the monitor, so flips, incidents, alerts and uptime work
 * as for every other kind.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { createGroupCommit, upTo } from '../db/group-commit.js';
import type { Logger } from '../logger.js';
import type { MonitorState } from '../monitors/kinds.js';
import { updateMonitor } from '../monitors/monitors.repository.js';
import { kindFromBody } from './http-body-filter.js';
import { createPingStatements, type PingStatements } from './ping-statements.js';
import { pingEvent } from '../realtime/events.js';
import { stageEvent } from '../realtime/staged.js';
import type { ResultRecorder } from '../monitors/results.service.js';
import { sweepStaysInTime } from './sweep.js';
import { AFTER_FAILURE, afterStart, afterSuccess, stillRunning, type HeartbeatSchedule, type HeartbeatState, type Timing } from './schedule.js';

/** `ign`: stored and counted, changes nothing (a method the check does not take, a paused check with manual_resume, a filtered body with no keyword). */
export const PING_KINDS = ['success', 'start', 'fail', 'log', 'exit', 'ign'] as const;
export type PingKind = (typeof PING_KINDS)[number];

export interface PingInput {
  /** The UUID of the check's ping URL (heartbeat_checks.ping_uuid), not its monitor id. */
  pingUuid: string;
  kind: PingKind;
  /** For `exit`: 0 is a success, 1–255 a failure. */
  exitStatus: number | null;
  rid: string | null;
  method: string;
  remoteAddr: string | null;
  userAgent: string | null;
  /** Already truncated to the body limit. */
  body: string | null;
  bodySize: number;
}

/**
 * The kind the ping was recorded as (what `methods`, the body filter or the e-mail filters made of
 * it: ignored pings are recorded too, as `ign`, as Healthchecks keeps them), or not_found.
 */
export type PingOutcome = PingKind | 'not_found';

/** The method recorded for a ping that came by e-mail (heartbeats/email-listener.ts, which applies the e-mail keyword filters itself). */
export const EMAIL_METHOD = 'email';

/** Pings kept per check, newest first: what `/api/v3/checks/{uuid}/pings/` can show. */
export const PINGS_KEPT = 1000;
const PRUNE_EVERY = 100;

/** Pings written per transaction at most. */
const MAX_BATCH = 1000;
/** How much of a failure ping's body goes into the reason of the down state. */
const REASON_BODY_CHARS = 200;

function isFailure(kind: PingKind, exitStatus: number | null): boolean {
  return kind === 'fail' || (kind === 'exit' && exitStatus !== 0);
}

function failureReason(kind: PingKind, input: PingInput): string {
  const what = kind === 'exit' ? `exited with status ${input.exitStatus}` : 'reported a failure';
  const body = input.body?.trim();
  return body ? `${what}: ${body.slice(-REASON_BODY_CHARS)}` : what;
}

type CheckRow = PingStatements['findCheck'] extends { run: (...args: never[]) => Promise<{ rows: (infer R)[] }> } ? R : never;

/**
 * What the ping counts as, in Healthchecks' order (views.ping, Check.ping): a method the check
 * does not take is ignored; else its body keywords decide when it filters HTTP bodies; a paused
 * check with manual_resume ignores everything.
 */
function effectiveKind(input: PingInput, check: CheckRow): PingKind {
  let kind: PingKind = input.kind;
  // `methods` and the HTTP body filter are about HTTP requests: an e-mail ping was already
  // classified by the e-mail filters (subject and body), as Healthchecks' smtpd does.
  if (input.method === EMAIL_METHOD) kind = input.kind;
  else if (check.methods === 'POST' && input.method !== 'POST') kind = 'ign';
  else if (check.filter_http_body === 1) {
    kind = kindFromBody(input.body ?? '', { startKw: check.start_kw, successKw: check.success_kw, failureKw: check.failure_kw, filterDefaultFail: check.filter_default_fail === 1 });
  }
  if (check.status === 'paused' && check.manual_resume === 1) kind = 'ign';
  return kind;
}

const timingValues = (timing: Timing) => ({ status: timing.status, alertAfter: timing.alertAfter, deadlineAt: timing.deadlineAt });

/** The common ping postpones the deadline: the sweep's index then stays as it is. */
async function writeTiming(trx: Db, write: PingStatements['startRun'], sweepAt: number | null, values: Record<string, unknown> & { deadlineAt: number | null }) {
  await (sweepStaysInTime(sweepAt, values.deadlineAt) ? write.keepingSweep : write.movingSweep).run(trx, values);
}

export function createPingWriter({ db, clock, recorder, logger }: { db: Db; clock: Clock; recorder: ResultRecorder; logger?: Logger }) {
  type Pending = { input: PingInput; at: number; resolve: (outcome: PingOutcome) => void; reject: (error: unknown) => void };

  const statements = createPingStatements(db);

  /** Writes one ping inside the batch's transaction. */
  async function writeOne(trx: Db, input: PingInput, at: number): Promise<{ outcome: PingOutcome; alerted: boolean }> {
    // The check and its monitor in one read: the common ping (a success on a check that is up)
    // then needs two writes — the check and the ping.
    const check = (await statements.findCheck.run(trx, { pingUuid: input.pingUuid })).rows[0];
    if (!check) return { outcome: 'not_found', alerted: false };
    const monitorId = check.monitor_id;
    const kind = effectiveKind(input, check);
    const n = check.n_pings + 1;
    const schedule: HeartbeatSchedule = { timeoutSeconds: check.timeout_seconds, graceSeconds: check.grace_seconds, schedule: check.schedule, tz: check.tz };
    const status = check.status as HeartbeatState;

    // The ping's own run time (the pings list): from the start with the same rid, or (no rid) from the last start.
    let startedAt: number | null = null;
    if (kind !== 'start' && kind !== 'log' && kind !== 'ign') {
      if (input.rid !== null) startedAt = (await statements.findStart.run(trx, { monitorId, rid: input.rid })).rows[0]?.at ?? null;
      else startedAt = check.last_start_at;
    }
    const durationMs = startedAt === null ? null : Math.max(0, at - startedAt);

    let alerted = false;
    if (kind === 'log' || kind === 'ign') await statements.countPing.run(trx, { monitorId, n });
    else if (kind === 'start') {
      // A start changes no status (a down check stays down, a paused one paused): it only opens a run that must end within grace.
      const timing = afterStart(schedule, at, status, check.alert_after, check.deadline_at);
      await writeTiming(trx, statements.startRun, check.sweep_at, { monitorId, n, at, rid: input.rid, ...timingValues(timing) });
    } else {
      const failed = isFailure(kind, input.exitStatus);
      // Healthchecks' rule for the run under way: the end with its rid (or both without) measures it and closes it;
      // a failure, or a success without rid, closes it; a success with another rid leaves it running.
      const run = { startAt: check.last_start_at, rid: check.last_start_rid };
      const sameRun = run.startAt !== null && run.rid === input.rid;
      const keepsRunning = run.startAt !== null && !sameRun && !failed && input.rid !== null;
      let timing = failed ? { ...AFTER_FAILURE } : afterSuccess(schedule, at);
      if (keepsRunning) timing = stillRunning(timing, run.startAt! + schedule.graceSeconds * 1000);
      if (status === 'paused') {
        // A success or a failure resumes a paused check, as in Healthchecks (manual_resume made it an ignored ping above).
        await updateMonitor(trx, check.tenant_id, monitorId, { isActive: true }, at);
        await recorder.setStateWithin(trx, monitorId, 'pending', 'resumed by a ping', at);
      }
      const seen = { id: monitorId, state: check.monitor_state as MonitorState };
      const outcome = { status: failed ? ('down' as const) : ('up' as const), message: failed ? failureReason(kind, input) : 'ping received', latencyMs: durationMs };
      // A resume above changed the monitor's row: what we read of it is stale.
      const written = status === 'paused' ? await recorder.recordWithin(trx, monitorId, outcome, at) : await recorder.recordSeenWithin(trx, seen, outcome, at);
      alerted = written?.alerted ?? false;
      await writeTiming(trx, statements.endRun, check.sweep_at, {
        monitorId,
        n,
        at,
        ...timingValues(timing),
        runStartAt: keepsRunning ? run.startAt : null,
        runRid: keepsRunning ? run.rid : null,
        lastDurationMs: sameRun ? Math.max(0, at - run.startAt!) : null,
      });
    }
    await statements.insertPing.run(trx, {
      monitorId,
      n,
      at,
      kind,
      exitStatus: input.exitStatus,
      rid: input.rid,
      method: input.method,
      remoteAddr: input.remoteAddr,
      userAgent: input.userAgent,
      // PostgreSQL text cannot hold NUL; a binary body keeps its shape with U+FFFD in its place.
      body: input.body === null ? null : input.body.replace(/\u0000/g, '\uFFFD'),
      bodySize: input.bodySize,
      durationMs,
    });
    stageEvent(trx, pingEvent(check.tenant_id, monitorId, kind, at, durationMs));
    // Each check keeps its last PINGS_KEPT pings (Healthchecks keeps 100 or 1,000). Pruned every
    // PRUNE_EVERY pings, so the table stays bounded at one extra statement per hundred pings.
    if (n % PRUNE_EVERY === 0 && n > PINGS_KEPT) await statements.prunePings.run(trx, { monitorId, upTo: n - PINGS_KEPT });
    return { outcome: kind, alerted };
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    // One ping the database refuses must not take its batch with it: write them one by one then.
    if (batch.length > 1) {
      try {
        await writeAll(batch);
      } catch {
        for (const pending of batch) await writeAll([pending]).catch(() => undefined);
      }
      return;
    }
    await writeAll(batch).catch(() => undefined);
  }

  /** Writes pings in one transaction; settles each of them; throws if the transaction failed. */
  async function writeAll(batch: Pending[]): Promise<void> {
    try {
      const results = await db.transaction().execute(async (trx) => {
        const out: PingOutcome[] = [];
        let alerted = false;
        for (const pending of batch) {
          const written = await writeOne(trx, pending.input, pending.at);
          out.push(written.outcome);
          alerted ||= written.alerted;
        }
        return { out, alerted, events: recorder.staged(trx) };
      });
      recorder.committed(results.events);
      if (results.alerted) recorder.alertWritten();
      batch.forEach((pending, i) => pending.resolve(results.out[i]!));
    } catch (error) {
      if (batch.length === 1) {
        logger?.error({ err: error }, 'writing a ping failed');
        batch[0]!.reject(error);
      }
      throw error;
    }
  }

  const commits = createGroupCommit<Pending>({ write: writeBatch, take: upTo(MAX_BATCH) });

  return {
    /** Resolves once the ping is committed (or known not to be stored). */
    record(input: PingInput): Promise<PingOutcome> {
      return new Promise((resolve, reject) => commits.push({ input, at: clock.now(), resolve, reject }));
    },
    /** Writes what is queued now (shutdown). */
    flush: () => commits.flush(),
  };
}

export type PingWriter = ReturnType<typeof createPingWriter>;
