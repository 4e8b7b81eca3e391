/**
 * Healthchecks' JSON for a check, a ping and a flip (`Check.to_dict`, `Ping.to_dict`,
 * `Flip.to_dict` in hc/api/models.py), field for field, per API version: v1 reports a running
 * check as `started`, v2 and v3 keep new/up/grace/down with `started: true`. Read-only keys get
 * `unique_key` instead of the UUID, URLs and channels.
 */
import { createHash } from 'node:crypto';
import type { HeartbeatCheck } from '../../heartbeats/heartbeats.repository.js';
import { nextExpectedAt } from '../../heartbeats/schedule.js';

export type ApiVersion = 1 | 2 | 3;

/** Where a check's links point: the server's base URL and the API root of the version asked. */
export interface Links {
  /** e.g. https://vigie.example.com */
  readonly base: string;
  /** e.g. https://vigie.example.com/hc/api/v3 */
  readonly apiRoot: string;
}

/** Healthchecks' `unique_key`: SHA-1 of the first 16 hex digits of the UUID (stable, and reveals no ping URL). */
export function uniqueKey(uuid: string): string {
  return createHash('sha1').update(uuid.replace(/-/g, '').slice(0, 16)).digest('hex');
}

/** ISO 8601 in seconds with an explicit offset (Healthchecks' `isostring`). */
export const isoSeconds = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00'));

/** Python's `datetime.isoformat()`: microseconds only when there are any. */
export function isoPython(ms: number): string {
  const text = new Date(ms).toISOString();
  return ms % 1000 === 0 ? text.replace(/\.\d{3}Z$/, '+00:00') : text.replace(/Z$/, '000+00:00');
}

/** Django's slugify, which API v1 and v2 apply to a check's name: ASCII, lower case, punctuation dropped, spaces and dashes one dash. */
export function djangoSlugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[^\x00-\x7f]/g, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}

/** When the check expects its next ping (Healthchecks' get_grace_start): null when new, paused or down and not running. */
function graceStart(check: HeartbeatCheck, withStarted: boolean): number | null {
  let start: number | null = null;
  if ((check.status === 'up' || check.status === 'grace' || check.status === 'started') && check.lastPingAt !== null) {
    const expected = nextExpectedAt(check, check.lastPingAt);
    start = expected >= Number.MAX_SAFE_INTEGER ? null : expected;
  }
  if (withStarted && check.lastStartAt !== null && check.status !== 'down') start = start === null ? check.lastStartAt : Math.min(start, check.lastStartAt);
  return start;
}

/**
 * Healthchecks' get_status, computed at `now` as it does: a run past its grace is down; v1 calls
 * a run under way `started`. A paused check stays paused (Vigie does not alert on a paused check's run).
 */
export function statusOf(check: HeartbeatCheck, v: ApiVersion, now: number): string {
  const grace = check.graceSeconds * 1000;
  if (check.lastStartAt !== null && check.status !== 'paused') {
    if (now >= check.lastStartAt + grace) return 'down';
    if (v === 1) return 'started';
  }
  if (check.status === 'new' || check.status === 'paused' || check.status === 'down') return check.status;
  const start = graceStart(check, false);
  if (start === null) return 'up';
  if (now >= start + grace) return 'down';
  return now >= start ? 'grace' : 'up';
}

/** The tags as the API was given them, else as Vigie's own API set them. */
export const tagsText = (check: HeartbeatCheck) => check.tagsText ?? check.tags.join(' ');

export function checkDict(check: HeartbeatCheck, options: { v: ApiVersion; readOnly: boolean; links: Links; now: number; channels: string }) {
  const { v, links } = options;
  const k = check.keywords;
  const dict: Record<string, unknown> = {
    name: check.name,
    slug: check.slug ?? '',
    tags: tagsText(check),
    desc: check.description,
    grace: check.graceSeconds,
    n_pings: check.nPings,
    status: statusOf(check, v, options.now),
    started: check.lastStartAt !== null,
    last_ping: isoSeconds(check.lastPingAt),
    next_ping: isoSeconds(graceStart(check, true)),
    manual_resume: check.manualResume,
    methods: check.methods,
    // `subject` and `subject_fail` are Healthchecks' older names for the subject keywords.
    subject: k.filterSubject ? k.successKw : '',
    subject_fail: k.filterSubject ? k.failureKw : '',
    start_kw: k.startKw,
    success_kw: k.successKw,
    failure_kw: k.failureKw,
    filter_subject: k.filterSubject,
    filter_body: k.filterBody,
    filter_http_body: k.filterHttpBody,
    filter_default_fail: k.filterDefaultFail,
    badge_url: `${links.base}/b/2/${check.badgeKey}.svg`,
  };
  if (check.lastDurationMs) dict.last_duration = Math.trunc(check.lastDurationMs / 1000);
  if (options.readOnly) dict.unique_key = uniqueKey(check.pingUuid);
  else {
    const updateUrl = `${links.apiRoot}/checks/${check.pingUuid}`;
    Object.assign(dict, {
      uuid: check.pingUuid,
      ping_url: `${links.base}/ping/${check.pingUuid}`,
      update_url: updateUrl,
      pause_url: `${updateUrl}/pause`,
      resume_url: `${updateUrl}/resume`,
      channels: options.channels,
    });
  }
  if (check.schedule === null) dict.timeout = check.timeoutSeconds;
  else Object.assign(dict, { schedule: check.schedule, tz: check.tz });
  return dict;
}

/** The check's channels as Healthchecks lists them: sorted UUIDs, comma-separated (every channel of the tenant when it alerts them all). */
export function channelsText(check: HeartbeatCheck, tenantChannelIds: readonly string[]): string {
  return [...(check.channelIds ?? tenantChannelIds)].sort().join(',');
}

export interface PingRow {
  n: number;
  at: number;
  kind: string;
  exit_status: number | null;
  rid: string | null;
  method: string;
  remote_addr: string | null;
  user_agent: string | null;
  body_size: number;
  duration_ms: number | null;
}

/** Healthchecks' ping types: success, fail, start, log, ign; an exit status is a success (0) or a failure. */
function pingType(row: PingRow): string {
  if (row.kind === 'exit') return row.exit_status === 0 ? 'success' : 'fail';
  return row.kind;
}

export function pingDict(row: PingRow, options: { links: Links; uuid: string; scheme: string }) {
  const type = pingType(row);
  const dict: Record<string, unknown> = {
    type,
    date: isoPython(row.at),
    n: row.n,
    scheme: options.scheme,
    remote_addr: row.remote_addr,
    method: row.method,
    ua: row.user_agent ?? '',
    rid: row.rid,
    // Not in Healthchecks' answer today; kept from Vigie's earlier answers (clients read the exit status from it).
    exitstatus: row.exit_status,
    body_url: row.body_size > 0 ? `${options.links.apiRoot}/checks/${options.uuid}/pings/${row.n}/body` : null,
  };
  // Only an end of run has a duration, to the hundredth of a second.
  if (row.duration_ms !== null && (type === 'success' || type === 'fail')) dict.duration = Math.round(row.duration_ms / 10) / 100;
  return dict;
}

export const flipDict = (flip: { at: number; to_state: string }) => ({ timestamp: isoSeconds(flip.at), up: flip.to_state === 'up' ? 1 : 0 });
