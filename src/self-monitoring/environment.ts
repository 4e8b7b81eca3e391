/**
 * What the self probes read, besides the database and the clock. The HTTP app supplies the
 * readiness probes (the database and, when REDIS_URL is set, Redis: health/probes.ts, shared
 * with /api/v1/health/readiness); the background work supplies the runtime signals of this
 * process (its check queue and its alerting loop) when it starts. A process without background
 * work has no runtime signals: the probes that need them say so or use only the database.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { ReadinessProbe } from '../health/probes.js';

/** The check job queue of this process, as queue-watch.ts observes it. */
export interface CheckQueueSignals {
  /** Checks waiting or running. */
  depth(): number;
  /** The most the scheduler lets wait or run at once (it stops claiming above). */
  readonly capacity: number;
  /** When the check that has waited longest to start was queued; null when none waits. */
  oldestWaitingSince(): number | null;
  /** The largest claim lag (claim time − due time) of the recent past; null when nothing was claimed. */
  worstClaimLagMs(): number | null;
}

export interface RuntimeSignals {
  /** When this process's background work started. */
  readonly startedAt: number;
  readonly checkQueue: CheckQueueSignals;
  /** The alerting loop (routing and delivery) of this process: how long ago it last completed a pass (null: not yet). */
  readonly alerting: { msSinceLastPass(): number | null };
}

export interface ProbeEnvironment {
  readonly db: Db;
  readonly clock: Clock;
  readiness(): readonly ReadinessProbe[];
  runtime(): RuntimeSignals | undefined;
  /** Whether an SMTP relay is configured (SMTP_HOST); undefined until the app says. */
  emailRelayConfigured(): boolean | undefined;
}
