/**
 * A backup run's statuses (seed 001), the run states, and what each status means to the monitor.
 * Seed 001 names the "database unchanged" case HASH_MISMATCH; Vigie calls it UNCHANGED (the new
 * backup's content hash equals the last healthy one's) and reads the seed's name as an alias.
 */
import type { ResultStatus } from '../../monitors/kinds.js';

export const BACKUP_STATUSES = ['SUCCESS', 'FAILED', 'MISSING', 'TRANSFER_INTEGRITY_FAILED', 'UNCHANGED', 'SIZE_ANOMALY'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Seed 001's names accepted wherever a status is read (filters). */
export const STATUS_ALIASES: Readonly<Record<string, BackupStatus>> = { HASH_MISMATCH: 'UNCHANGED' };
/** Every name a client may send for a status. */
export const READABLE_STATUSES = [...BACKUP_STATUSES, ...Object.keys(STATUS_ALIASES)] as const;

export function canonicalStatus(name: string): BackupStatus {
  const upper = name.toUpperCase();
  return STATUS_ALIASES[upper] ?? (upper as BackupStatus);
}

/** received → validating → promoting → promoted | rejected; `missed`: a run that never came (MISSING). */
export const RUN_STATES = ['received', 'validating', 'promoting', 'promoted', 'rejected', 'missed'] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * The monitor result of a status. UNCHANGED is fine up to the job's allowed unchanged runs in a
 * row (`unchangedStreak` counts this one), a warning beyond.
 */
export function resultStatusOf(status: BackupStatus, unchangedStreak: number, allowedUnchanged: number): ResultStatus {
  switch (status) {
    case 'SUCCESS':
      return 'up';
    case 'UNCHANGED':
      return unchangedStreak <= allowedUnchanged ? 'up' : 'warning';
    case 'SIZE_ANOMALY':
      return 'warning';
    default:
      return 'down';
  }
}
