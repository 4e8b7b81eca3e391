/**
 * One self probe: a named part of Vigie, how often its self check runs, whether this process can
 * check it at all, and the check itself. The probes live in probes/, one file each, and
 * probes/index.ts is their registry.
 */
import type { ResultStatus } from '../monitors/kinds.js';
import type { SelfService } from './self-services.js';

/** What one run of a probe says: a result like any check's. */
export interface ProbeReading {
  status: ResultStatus;
  message: string;
  latencyMs: number;
}

export interface SelfProbe {
  readonly service: SelfService;
  /** A person's name for the check ("Vigie database"), the self check's monitor name. */
  readonly title: string;
  readonly intervalSeconds: number;
  /**
   * Whether this process can run the probe: Redis only when REDIS_URL is set, the job runner only
   * where background work runs. It reads the environment the registry was given (see
   * ProbeEnvironment) rather than taking the config, because some answers are facts of the
   * process, not of the configuration.
   */
  available(): boolean;
  /** Why `available()` is false, as a client reads it in a 404. */
  readonly unavailableReason: string;
  /** Never rejects: a failure is a `down` reading that says why. */
  run(): Promise<ProbeReading>;
}

/** Age thresholds shared by the probes that measure lateness. */
export interface AgeThresholds {
  warningMs: number;
  downMs: number;
}

/** up below the warning threshold, warning up to the down threshold, down above it. */
export function gradeAge(ageMs: number, thresholds: AgeThresholds): ResultStatus {
  if (ageMs > thresholds.downMs) return 'down';
  if (ageMs > thresholds.warningMs) return 'warning';
  return 'up';
}

const SEVERITY: Record<ResultStatus, number> = { up: 0, warning: 1, down: 2 };

/** The worst of some statuses (`up` for none). */
export function worstStatus(statuses: Iterable<ResultStatus>): ResultStatus {
  let worst: ResultStatus = 'up';
  for (const status of statuses) if (SEVERITY[status] > SEVERITY[worst]) worst = status;
  return worst;
}

/** "12.3 s", "4 min 10 s": durations in messages. */
export function describeDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/** Several findings as one reading: the worst status, the messages of the worst ones first. */
export function combine(findings: readonly { status: ResultStatus; message: string }[], latencyMs: number): ProbeReading {
  const status = worstStatus(findings.map((f) => f.status));
  const ordered = [...findings].sort((a, b) => SEVERITY[b.status] - SEVERITY[a.status]);
  return { status, latencyMs, message: ordered.map((f) => f.message).join('; ') };
}
