/**
 * Records a check's verdict and applies the state machine, for every kind. Each transaction
 * first takes the monitor's row (an UPDATE that bumps its `version`, so PostgreSQL locks the
 * row and SQLite takes its write lock), then reads the counters it now owns: when two workers
 * record results for the same monitor at once, the second waits for the first to commit and
 * applies its result on top, so each result counts once and a state change is written once.
 * (An optimistic read-then-compare-and-set starved here: with 20 results at once, each retry
 * round let only one through, and the last ones ran out of attempts.) The counters write keeps a
 * compare-and-set on the version as a guard. A change of state is handed to the flip module
 * (flips.ts), which moves the state and writes the flip row, its incident and its alert event in
 * the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { createGroupCommit, upTo } from '../db/group-commit.js';
import { flipEvents, resultEvent, type MonitorFacts } from '../realtime/events.js';
import { silentHub, type Hub } from '../realtime/hub.js';
import { stageEvent, stagedEvents } from '../realtime/staged.js';
import type { RealtimeEvent } from '../realtime/topics.js';
import { createFlipWriter, FlipConflict, type Flip, type FlipIncident, type FlipListener } from './flips.js';
import type { MonitorKind } from './kinds.js';
import { isUnwatched, type MonitorState, type ResultStatus } from './kinds.js';
import { insertResult } from './results-history.js';
import { applyResult } from './state-machine.js';

export interface CheckOutcome {
  status: ResultStatus;
  latencyMs?: number | null;
  value?: number | null;
  message: string;
}

export interface RecordedResult {
  monitorId: string;
  at: number;
  status: ResultStatus;
  latencyMs: number | null;
  value: number | null;
  message: string;
  flip?: Flip;
}

/** What recordSeenWithin needs of a monitor row its caller has read. */
export interface SeenMonitor {
  id: string;
  state: MonitorState;
}

const MAX_ATTEMPTS = 8;
/** Results written in one transaction at most (see writeResults). */
const MAX_RESULTS_PER_COMMIT = 200;

interface PendingResult {
  monitorId: string;
  outcome: CheckOutcome;
  at: number;
  resolve(result: RecordedResult | undefined): void;
  reject(error: unknown): void;
}

class VersionConflict extends Error {}

/** The tenant's default, read only for monitors without a threshold of their own. */
async function tenantFailureThreshold(trx: Db, tenantId: string): Promise<number> {
  const settings = await trx.selectFrom('tenant_settings').select('consecutive_failures_threshold').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return settings.consecutive_failures_threshold;
}

/** Takes the monitor's row for this transaction and returns it as it is now; undefined if deleted. */
async function lockMonitor(trx: Db, monitorId: string) {
  return trx
    .updateTable('monitors')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('id', '=', monitorId)
    .returning(['tenant_id', 'kind', 'name', 'state', 'consecutive_failures', 'consecutive_successes', 'failure_threshold', 'recovery_threshold', 'version'])
    .executeTakeFirst();
}

export interface ResultRecorderOptions {
  db: Db;
  clock: Clock;
  /**
   * Writes a flip's alert event inside the flip's transaction (alerting's recordFlipEvent, given
   * by services.ts so that the monitor core does not import alerting). Returns whether it wrote one.
   */
  onFlipWritten: FlipListener;
  /** Called after a transaction that wrote an alert event commits: wakes the alert router. */
  onAlertEvent?: () => void;
  /**
   * Told of each flip once written, inside its transaction, for /metrics' flip counter (a flip
   * whose transaction then rolls back is counted too; that is rare and only skews a counter).
   */
  onFlip?: (flip: Flip) => void;
  /**
   * The realtime hub: each result and flip (with its incident and alert event) is staged on the
   * transaction and published once it commits (record/setState do it; callers of the *Within
   * forms publish `recorder.staged(trx)` after their commit, with `recorder.committed`).
   */
  hub?: Hub;
}

export function createResultRecorder({ db, clock, onFlipWritten, onAlertEvent, onFlip, hub = silentHub }: ResultRecorderOptions) {
  // The incident and whether an alert event was written, as the flip's listener saw them, for its realtime events.
  const flipOutcomes = new WeakMap<Flip, { incident: FlipIncident; alerted: boolean }>();
  const flips = createFlipWriter({
    onFlipWritten: async (trx, flip, incident) => {
      const alerted = await onFlipWritten(trx, flip, incident);
      flipOutcomes.set(flip, { incident, alerted });
      return alerted;
    },
  });
  const stageFlip = (trx: Db, facts: MonitorFacts, flip: Flip) => {
    const outcome = flipOutcomes.get(flip);
    for (const event of flipEvents(facts, flip, outcome?.incident, outcome?.alerted ?? false)) stageEvent(trx, event);
  };

  /**
   * Records a result inside the caller's transaction (e.g. a batch of pings); the caller calls
   * `alertWritten()` after its commit when this returned `alerted`.
   */
  async function recordWithin(trx: Db, monitorId: string, outcome: CheckOutcome, at: number): Promise<{ recorded: RecordedResult; alerted: boolean } | undefined> {
    const monitor = await lockMonitor(trx, monitorId);
    if (!monitor) return undefined; // deleted while its check ran
    const failures = monitor.failure_threshold ?? (await tenantFailureThreshold(trx, monitor.tenant_id));
    const fromState = monitor.state as MonitorState;
    const next = applyResult({ state: fromState, consecutiveFailures: monitor.consecutive_failures, consecutiveSuccesses: monitor.consecutive_successes }, outcome.status, {
      failures,
      recoveries: monitor.recovery_threshold,
    });
    const updated = await trx
      .updateTable('monitors')
      // The state itself is moved by the flip write below, with the flip row.
      .set({
        consecutive_failures: next.consecutiveFailures,
        consecutive_successes: next.consecutiveSuccesses,
        last_checked_at: at,
      })
      .where('id', '=', monitorId)
      .where('version', '=', monitor.version)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new VersionConflict();

    const recorded: RecordedResult = {
      monitorId,
      at,
      status: outcome.status,
      latencyMs: outcome.latencyMs ?? null,
      value: outcome.value ?? null,
      message: outcome.message,
    };
    // Nobody watches a paused monitor or one in maintenance: a check that was running when it
    // was paused (or entered maintenance) is not kept, and never counts as downtime.
    const facts: MonitorFacts = { tenantId: monitor.tenant_id, kind: monitor.kind as MonitorKind, name: monitor.name };
    if (!isUnwatched(fromState)) {
      await insertResult(trx, recorded);
      stageEvent(trx, resultEvent(facts, recorded));
    }
    if (next.flipTo) {
      recorded.flip = { id: randomUUID(), tenantId: monitor.tenant_id, monitorId, fromState, toState: next.flipTo, at, reason: outcome.message };
      const alerted = await flips.write(trx, recorded.flip);
      stageFlip(trx, facts, recorded.flip);
      onFlip?.(recorded.flip);
      return { recorded, alerted };
    }
    return { recorded, alerted: false };
  }

  /**
   * recordWithin for a caller that has read the monitor's row in its own query, under a lock that
   * holds until its commit (FOR SHARE on PostgreSQL; SQLite has one writer). A success on a
   * monitor that is up changes nothing the state machine needs, so nothing is written: no result
   * row, no counters — the ping path's commonest case, where a check pinged every second would
   * otherwise store everything twice and rewrite its monitor's page each time (a heartbeat's
   * history is its pings; its last check time is its last ping, see monitors.repository). Any
   * other outcome takes the full path.
   */
  async function recordSeenWithin(trx: Db, seen: SeenMonitor, outcome: CheckOutcome, at: number): Promise<{ recorded: RecordedResult; alerted: boolean } | undefined> {
    if (outcome.status === 'up' && seen.state === 'up') {
      return { recorded: { monitorId: seen.id, at, status: 'up', latencyMs: outcome.latencyMs ?? null, value: outcome.value ?? null, message: outcome.message }, alerted: false };
    }
    return recordWithin(trx, seen.id, outcome, at);
  }

  /** setState inside the caller's transaction; the caller calls alertWritten() after commit when `alerted`. */
  async function setStateWithin(
    trx: Db,
    monitorId: string,
    toState: 'paused' | 'pending' | 'maintenance',
    reason: string,
    at: number,
    options: { nextDueAt?: number | null; onlyFrom?: (state: MonitorState) => boolean } = {},
  ): Promise<{ flip: Flip; alerted: boolean } | undefined> {
    // Locked like a result, so a result recorded at the same moment cannot slip between the
    // read of the previous state and this write (the flip row names the true previous state).
    const monitor = await lockMonitor(trx, monitorId);
    if (!monitor || monitor.state === toState) return undefined;
    if (options.onlyFrom && !options.onlyFrom(monitor.state as MonitorState)) return undefined;
    await trx
      .updateTable('monitors')
      // The state itself is moved by the flip write below, with the flip row.
      .set({
        consecutive_failures: 0,
        consecutive_successes: 0,
        updated_at: at,
        ...(options.nextDueAt !== undefined && { next_due_at: options.nextDueAt }),
      })
      .where('id', '=', monitorId)
      .execute();
    const flip: Flip = { id: randomUUID(), tenantId: monitor.tenant_id, monitorId, fromState: monitor.state as MonitorState, toState, at, reason };
    const alerted = await flips.write(trx, flip);
    stageFlip(trx, { tenantId: monitor.tenant_id, kind: monitor.kind as MonitorKind, name: monitor.name }, flip);
    onFlip?.(flip);
    return { flip, alerted };
  }

  /** One result alone, retried on a conflict with another writer of its monitor. */
  async function recordAlone({ monitorId, outcome, at }: PendingResult): Promise<RecordedResult | undefined> {
    for (let i = 1; ; i++) {
      try {
        const written = await db.transaction().execute(async (trx) => ({ result: await recordWithin(trx, monitorId, outcome, at), events: stagedEvents(trx) }));
        hub.publish(...written.events);
        if (written.result?.alerted) onAlertEvent?.();
        return written.result?.recorded;
      } catch (error) {
        if (!(error instanceof VersionConflict || error instanceof FlipConflict) || i >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * The results of one turn of the event loop, in one transaction: on SQLite each commit is an
   * fsync on the event loop, and at 167 results/s (10,000 monitors a minute) commits were a
   * quarter of Vigie's busy time. Monitors are locked in id order (a result of the same monitor
   * keeps its place), so two processes' batches cannot deadlock on PostgreSQL. If the shared
   * transaction fails (a conflict, one bad result), each result is written alone, so one failure
   * is only its own.
   */
  async function writeResults(batch: PendingResult[]): Promise<void> {
    if (batch.length > 1) {
      const ordered = [...batch].sort((a, b) => (a.monitorId < b.monitorId ? -1 : a.monitorId > b.monitorId ? 1 : 0));
      try {
        const written = await db.transaction().execute(async (trx) => {
          const results = [];
          for (const pending of ordered) results.push(await recordWithin(trx, pending.monitorId, pending.outcome, pending.at));
          return { results, events: stagedEvents(trx) };
        });
        hub.publish(...written.events);
        if (written.results.some((result) => result?.alerted)) onAlertEvent?.();
        ordered.forEach((pending, i) => pending.resolve(written.results[i]?.recorded));
        return;
      } catch {
        // written one by one below
      }
    }
    for (const pending of batch) await recordAlone(pending).then(pending.resolve, pending.reject);
  }
  const commits = createGroupCommit<PendingResult>({ write: writeResults, take: upTo(MAX_RESULTS_PER_COMMIT) });

  return {
    recordWithin,
    recordSeenWithin,
    /** To call after committing a transaction in which recordWithin wrote an alert event. */
    alertWritten: () => onAlertEvent?.(),
    /** The realtime events staged on a transaction by the *Within forms: return them from the transaction's callback… */
    staged: (trx: Db): RealtimeEvent[] => stagedEvents(trx),
    /** …and publish them once it has committed. */
    committed: (events: readonly RealtimeEvent[] | undefined): void => {
      if (events?.length) hub.publish(...events);
    },
    /**
     * Records one result in its own transaction, or in one shared with the other results recorded
     * in the same turn of the event loop (see `commits`). Returns undefined when the monitor no
     * longer exists.
     */
    record(monitorId: string, outcome: CheckOutcome, at: number = clock.now()): Promise<RecordedResult | undefined> {
      return new Promise((resolve, reject) => commits.push({ monitorId, outcome, at, resolve, reject }));
    },

    /**
     * Moves a monitor to a state outside the result flow (pause, resume, maintenance), with a flip
     * row; `nextDueAt` reschedules it in the same transaction, and `onlyFrom` makes the move
     * conditional on the state found under the row lock.
     */
    async setState(
      monitorId: string,
      toState: 'paused' | 'pending' | 'maintenance',
      reason: string,
      options: { nextDueAt?: number | null; onlyFrom?: (state: MonitorState) => boolean } = {},
    ): Promise<Flip | undefined> {
      const written = await db.transaction().execute(async (trx) => ({ result: await setStateWithin(trx, monitorId, toState, reason, clock.now(), options), events: stagedEvents(trx) }));
      hub.publish(...written.events);
      if (written.result?.alerted) onAlertEvent?.();
      return written.result?.flip;
    },
    setStateWithin,
  };
}

export type ResultRecorder = ReturnType<typeof createResultRecorder>;
