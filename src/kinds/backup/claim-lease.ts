/**
 * Who holds a claimed backup run, and until when. Several scanning processes (one per server of a
 * cluster, or a one-shot scan beside `vigie serve`) may share one database and zones: a run being
 * validated or promoted is held by its process's owner id until a lease expires, and the holder
 * renews the lease while it works (a large file takes minutes to hash). Another process takes a
 * claim back only once its lease has expired, or at once when its owner is a process of this same
 * host (same host name and PID namespace) that is no longer running: a restart after a crash does
 * not wait out the lease of the process it replaces.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** This host's PID namespace (Linux), so a PID is only compared within the namespace it names. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'unknown';
  }
}

const HOST = `${hostname()}|${pidNamespace()}`;

/** A new owner id for one scanner of this process: host and PID namespace, PID, and a random part. */
export function newClaimOwner(): string {
  return `${HOST}|${process.pid}|${randomUUID()}`;
}

/** Whether the owner is a process of this host (and PID namespace) that no longer runs. */
export function ownerIsGone(owner: string): boolean {
  const cut = owner.lastIndexOf('|');
  const pidCut = owner.lastIndexOf('|', cut - 1);
  if (cut < 0 || pidCut < 0 || owner.slice(0, pidCut) !== HOST) return false;
  const pid = Number(owner.slice(pidCut + 1, cut));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // another scanner of this very process: alive
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: a process of another user has that PID now; it is alive, so the claim waits for its lease.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface HeldClaim {
  claim_owner: string | null;
  claim_expires_at: number | string | null;
}

/**
 * Whether a claim may be taken back by `self` at `now`: expired, held by no owner (a row claimed
 * before leases existed), by `self` when `ownToo` (start-up: this scanner's own claims are dead), or
 * by a process of this host that is gone.
 */
export function claimIsAbandoned(row: HeldClaim, now: number, self: string, ownToo: boolean): boolean {
  if (row.claim_owner === null || row.claim_expires_at === null) return true;
  if (Number(row.claim_expires_at) <= now) return true;
  if (row.claim_owner === self) return ownToo;
  return ownerIsGone(row.claim_owner);
}
