/**
 * The two zones and the names agents give. Every path the scanner, validator and promoter touch is
 * built here from checked components, so nothing is ever written outside the deposit and
 * validated zones: a name from an agent is refused when it is absolute, holds `..`, an empty or
 * dot-leading component, a NUL or a backslash.
 */
import { join } from 'node:path';

/** A single directory or file name: agent names, job and run ids. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export const isSafeName = (name: string): boolean => SAFE_NAME.test(name) && name !== '.' && name !== '..';

/** Why a manifest path is refused, or null when it is a plain relative path inside the job's directory. */
export function unsafePathReason(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (path.length > 1024) return 'path longer than 1024 characters';
  if (path.includes('\0')) return 'path holds a NUL byte';
  if (path.includes('\\')) return 'path holds a backslash';
  if (path.startsWith('/')) return 'absolute path';
  for (const part of path.split('/')) {
    if (part === '..') return 'path climbs out with ..';
    if (part === '' || part === '.') return 'path has an empty or "." component';
    if (part.startsWith('.')) return 'path has a hidden (dot) component, which rsync uses for its temporary files';
  }
  return null;
}

/** rsync's temporary files (`.name.XXXXXX`) and partial transfers (`.~tmp~`, `--partial-dir`). */
export const isTransferTemporary = (name: string): boolean => name.startsWith('.');

export interface Zones {
  readonly depositDir: string;
  readonly validatedDir: string;
}

export const agentRoot = (zones: Zones, tenantId: string, agent: string): string => join(zones.depositDir, tenantId, agent);
export const depositPath = (zones: Zones, tenantId: string, agent: string, jobId: string): string => join(zones.depositDir, tenantId, agent, jobId);
export const quarantinePath = (zones: Zones, tenantId: string, agent: string, jobId: string, runId: string): string => join(zones.depositDir, '.quarantine', tenantId, agent, jobId, runId);
/** Where a job's healthy copies live: one directory per promoted run. */
export const jobValidatedDir = (zones: Zones, tenantId: string, agent: string, jobId: string): string => join(zones.validatedDir, tenantId, agent, jobId);
export const STAGING_PREFIX = '.staging-';
export const STATUS_FILE = 'STATUS.json';
