/**
 * Who holds a claimed backup run, and until when. Several scanning processes (one per server of a
 * cluster, or a one-shot scan beside `vigie serve`) may share one database and zones: a run being
 * validated or promoted is held by its process's owner id until a lease expires, and the holder
 * renews the lease while it works (a large file takes minutes to hash). Another process takes a
 * claim back only once its lease has expired, or at once when its owner is a process of this same
 * host that is no longer running: a restart after a crash does not wait out the lease of the
 * process it replaces. "This host" is the host name: in the same PID namespace, the owner's PID
 * is asked (kill 0); in another one under the same host name, the owner was the previous life of
 * this container (a restarted container keeps its host name and gets a new PID namespace), so
 * processes sharing a database must have distinct host names (Docker's and Kubernetes' default).
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

const HOST_NAME = hostname();
const PID_NAMESPACE = pidNamespace();

/** A new owner id for one scanner of this process: host and PID namespace, PID, and a random part. */
export function newClaimOwner(): string {
  return `${HOST_NAME}|${PID_NAMESPACE}|${process.pid}|${randomUUID()}`;
}

/** Whether the owner is a process of this host that no longer runs (see above). */
export function ownerIsGone(owner: string): boolean {
  const [host, namespace, pidText, id, ...rest] = owner.split('|');
  if (host !== HOST_NAME || id === undefined || rest.length) return false;
  if (namespace !== PID_NAMESPACE) return namespace !== 'unknown' && PID_NAMESPACE !== 'unknown';
  const pid = Number(pidText);
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
