/** Heartbeat check rows joined with their monitors: the one module that reads `heartbeat_checks`. */
import type { Db } from '../db/database.js';
import { channelsOf, tagsOf } from '../monitors/monitors.repository.js';
import type { HeartbeatSchedule, HeartbeatState } from './schedule.js';

/** Healthchecks' keyword filters: which texts are searched, and the comma-separated keywords that make a start, a success, a failure. */
export interface KeywordFilters {
  startKw: string;
  successKw: string;
  failureKw: string;
  filterSubject: boolean;
  filterBody: boolean;
  filterHttpBody: boolean;
  /** A filtered text matching no keyword is a failure (true) or an ignored ping (false). */
  filterDefaultFail: boolean;
}

export interface HeartbeatCheck extends HeartbeatSchedule {
  id: string;
  tenantId: string;
  /** The secret of the check's ping URL; shown only to keys that may write. */
  pingUuid: string;
  /** Names the check in its public badge URL. */
  badgeKey: string;
  name: string;
  tags: string[];
  slug: string | null;
  description: string;
  manualResume: boolean;
  /** '' (any) or 'POST'. */
  methods: string;
  /** Healthchecks' keyword filters (e-mail subject and body, HTTP ping body). */
  keywords: KeywordFilters;
  /** The tags as the Healthchecks API was given them; null: set by Vigie's own API (use `tags`). */
  tagsText: string | null;
  /** The rid of the run under way (with lastStartAt). */
  lastStartRid: string | null;
  status: HeartbeatState;
  lastPingAt: number | null;
  lastStartAt: number | null;
  lastDurationMs: number | null;
  nPings: number;
  alertAfter: number | null;
  deadlineAt: number | null;
  channelIds: string[] | null;
  createdAt: number;
}

const COLUMNS = [
  'heartbeat_checks.monitor_id',
  'heartbeat_checks.tenant_id',
  'heartbeat_checks.ping_uuid',
  'heartbeat_checks.badge_key',
  'heartbeat_checks.slug',
  'heartbeat_checks.description',
  'heartbeat_checks.timeout_seconds',
  'heartbeat_checks.grace_seconds',
  'heartbeat_checks.schedule',
  'heartbeat_checks.tz',
  'heartbeat_checks.manual_resume',
  'heartbeat_checks.methods',
  'heartbeat_checks.start_kw',
  'heartbeat_checks.success_kw',
  'heartbeat_checks.failure_kw',
  'heartbeat_checks.filter_subject',
  'heartbeat_checks.filter_body',
  'heartbeat_checks.filter_http_body',
  'heartbeat_checks.filter_default_fail',
  'heartbeat_checks.tags_text',
  'heartbeat_checks.last_start_rid',
  'heartbeat_checks.status',
  'heartbeat_checks.last_ping_at',
  'heartbeat_checks.last_start_at',
  'heartbeat_checks.last_duration_ms',
  'heartbeat_checks.n_pings',
  'heartbeat_checks.alert_after',
  'heartbeat_checks.deadline_at',
  'monitors.name',
  'monitors.all_channels',
  'monitors.created_at',
] as const;

function baseQuery(db: Db, tenantId: string) {
  return db.selectFrom('heartbeat_checks').innerJoin('monitors', 'monitors.id', 'heartbeat_checks.monitor_id').select(COLUMNS).where('heartbeat_checks.tenant_id', '=', tenantId);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['execute']>>[number];

async function hydrate(db: Db, tenantId: string, rows: Row[]): Promise<HeartbeatCheck[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.monitor_id);
  const [tags, channels] = await Promise.all([tagsOf(db, tenantId, ids), channelsOf(db, tenantId, ids)]);
  return rows.map((row) => ({
    id: row.monitor_id,
    tenantId: row.tenant_id,
    pingUuid: row.ping_uuid!,
    badgeKey: row.badge_key!,
    name: row.name,
    tags: tags.get(row.monitor_id) ?? [],
    slug: row.slug,
    description: row.description,
    timeoutSeconds: row.timeout_seconds,
    graceSeconds: row.grace_seconds,
    schedule: row.schedule,
    tz: row.tz,
    manualResume: row.manual_resume === 1,
    methods: row.methods,
    keywords: {
      startKw: row.start_kw,
      successKw: row.success_kw,
      failureKw: row.failure_kw,
      filterSubject: row.filter_subject === 1,
      filterBody: row.filter_body === 1,
      filterHttpBody: row.filter_http_body === 1,
      filterDefaultFail: row.filter_default_fail === 1,
    },
    tagsText: row.tags_text,
    lastStartRid: row.last_start_rid,
    status: row.status as HeartbeatState,
    lastPingAt: row.last_ping_at,
    lastStartAt: row.last_start_at,
    lastDurationMs: row.last_duration_ms,
    nPings: row.n_pings,
    alertAfter: row.alert_after,
    deadlineAt: row.deadline_at,
    channelIds: row.all_channels === 1 ? null : (channels.get(row.monitor_id) ?? []),
    createdAt: row.created_at,
  }));
}

export async function findHeartbeat(db: Db, tenantId: string, id: string): Promise<HeartbeatCheck | undefined> {
  const row = await baseQuery(db, tenantId).where('heartbeat_checks.monitor_id', '=', id).executeTakeFirst();
  return row ? (await hydrate(db, tenantId, [row]))[0] : undefined;
}

export async function findHeartbeatByPingUuid(db: Db, tenantId: string, pingUuid: string): Promise<HeartbeatCheck | undefined> {
  const row = await baseQuery(db, tenantId).where('heartbeat_checks.ping_uuid', '=', pingUuid).executeTakeFirst();
  return row ? (await hydrate(db, tenantId, [row]))[0] : undefined;
}

export async function listHeartbeats(db: Db, tenantId: string, filters: { tags?: string[]; slug?: string } = {}): Promise<HeartbeatCheck[]> {
  let query = baseQuery(db, tenantId);
  if (filters.slug !== undefined) query = query.where('heartbeat_checks.slug', '=', filters.slug);
  for (const tag of filters.tags ?? []) {
    query = query.where((eb) => eb.exists(eb.selectFrom('monitor_tags').select('tag').whereRef('monitor_tags.monitor_id', '=', 'heartbeat_checks.monitor_id').where('monitor_tags.tag', '=', tag)));
  }
  return hydrate(db, tenantId, await query.orderBy('monitors.created_at').orderBy('monitors.id').execute());
}
