/**
 * Heartbeat checks of a tenant: create, change, pause, resume. Each is a monitor of kind
 * `heartbeat` (failure and recovery thresholds of 1: a missed deadline or a fail ping is down at
 * once, the next success is up) with its schedule and Healthchecks status beside it.
 */
import { randomUUID } from 'node:crypto';
import { isValidTimeZone } from '../auth/tenants.service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../errors.js';
import { createMonitorWithSettings } from '../monitors/create-monitor.js';
import { replaceTags, updateMonitor } from '../monitors/monitors.repository.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { findHeartbeat, findHeartbeatByPingUuid, type HeartbeatCheck, type KeywordFilters } from './heartbeats.repository.js';
import { readPingKey } from './ping-key.js';
import { scheduleProblem } from './schedule.js';
import { keyedSerial } from '../keyed-serial.js';
import { lockSlugCreation } from './slug-creation.js';

/** Healthchecks' defaults: a ping a day, an hour of grace. */
export const HEARTBEAT_DEFAULTS = Object.freeze({ timeoutSeconds: 86_400, graceSeconds: 3_600, tz: 'UTC' });

/** A check made by `?create=1` or created without settings. */
export const NEW_CHECK: Omit<HeartbeatInput, 'name' | 'slug'> = Object.freeze({
  tags: [],
  description: '',
  timeoutSeconds: HEARTBEAT_DEFAULTS.timeoutSeconds,
  graceSeconds: HEARTBEAT_DEFAULTS.graceSeconds,
  schedule: null,
  tz: HEARTBEAT_DEFAULTS.tz,
  manualResume: false,
  methods: '',
});

export interface HeartbeatInput {
  name: string;
  slug: string | null;
  tags: string[];
  description: string;
  timeoutSeconds: number;
  graceSeconds: number;
  schedule: string | null;
  tz: string;
  manualResume: boolean;
  methods: string;
  /** Keyword filters to change (left out: kept as they are; a new check has none). */
  keywords?: Partial<KeywordFilters>;
  /** The tags as the Healthchecks API was given them; left out: cleared (the `tags` list is the truth). */
  tagsText?: string | null;
}

/** Where a ping to a slug leads: a check's ping UUID, nothing, or more than one check (Healthchecks' 409 "ambiguous slug"). */
export type SlugTarget = { pingUuid: string; created: boolean } | 'not_found' | 'ambiguous';

const KEYWORD_COLUMNS = {
  startKw: 'start_kw',
  successKw: 'success_kw',
  failureKw: 'failure_kw',
  filterSubject: 'filter_subject',
  filterBody: 'filter_body',
  filterHttpBody: 'filter_http_body',
  filterDefaultFail: 'filter_default_fail',
} as const;

function keywordColumns(keywords: Partial<KeywordFilters> = {}): Record<string, string | number> {
  const columns: Record<string, string | number> = {};
  for (const [field, column] of Object.entries(KEYWORD_COLUMNS)) {
    const value = keywords[field as keyof KeywordFilters];
    if (value !== undefined) columns[column] = typeof value === 'boolean' ? Number(value) : value;
  }
  return columns;
}

/** Healthchecks derives a slug from the name: lower case, runs of other characters become "-". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The check's own columns, as create and update both write them. */
function settingsColumns(input: HeartbeatInput) {
  return {
    slug: input.slug,
    description: input.description,
    timeout_seconds: input.timeoutSeconds,
    grace_seconds: input.graceSeconds,
    schedule: input.schedule,
    tz: input.tz,
    manual_resume: input.manualResume ? 1 : 0,
    methods: input.methods,
    tags_text: input.tagsText ?? null,
    ...keywordColumns(input.keywords),
  };
}

function check(input: HeartbeatInput): void {
  const problems: FieldProblem[] = [];
  if (!isValidTimeZone(input.tz)) problems.push({ loc: ['body', 'tz'], msg: `Unknown time zone "${input.tz}"`, type: 'value_error' });
  else if (input.schedule !== null) {
    const problem = scheduleProblem(input.schedule, input.tz);
    if (problem) problems.push({ loc: ['body', 'schedule'], msg: problem, type: 'value_error' });
  }
  if (problems.length) throw new ValidationError(problems);
}

/** Writes a new check (its monitor row and its settings) in `trx`; returns its ping UUID. */
async function insertCheck(trx: Db, tenantId: string, id: string, input: HeartbeatInput, now: number): Promise<string> {
  const pingUuid = randomUUID();
  await createMonitorWithSettings(
    trx,
    // A missed deadline or a fail ping is down at once; the next success is up.
    { id, tenantId, kind: 'heartbeat', name: input.name, tags: input.tags, failureThreshold: 1, recoveryThreshold: 1, now },
    'heartbeat_checks',
    {
      ping_uuid: pingUuid,
      badge_key: randomUUID(),
      ...settingsColumns(input),
      status: 'new',
      last_ping_at: null,
      last_start_at: null,
      last_duration_ms: null,
      alert_after: null,
      deadline_at: null,
      sweep_at: null,
    },
  );
  return pingUuid;
}

/** A slug's checks (two at most: more than one is ambiguous). */
const checksWithSlug = (db: Db, tenantId: string, slug: string) => db.selectFrom('heartbeat_checks').select('ping_uuid').where('tenant_id', '=', tenantId).where('slug', '=', slug).limit(2).execute();

function slugTarget(rows: { ping_uuid: string | null }[]): SlugTarget | null {
  if (rows.length > 1) return 'ambiguous';
  return rows[0] ? { pingUuid: rows[0].ping_uuid!, created: false } : null;
}

export function createHeartbeatsService({ db, clock, monitors }: { db: Db; clock: Clock; monitors: MonitorsService }) {
  const slugCreations = keyedSerial();
  const get = async (tenantId: string, id: string): Promise<HeartbeatCheck> => {
    const found = await findHeartbeat(db, tenantId, id);
    if (!found) throw new NotFoundError('Check');
    return found;
  };

  /** A check by the UUID of its ping URL, as the Healthchecks API names checks. */
  const getByPingUuid = async (tenantId: string, pingUuid: string): Promise<HeartbeatCheck> => {
    const found = await findHeartbeatByPingUuid(db, tenantId, pingUuid);
    if (!found) throw new NotFoundError('Check');
    return found;
  };

  /** The tenant a ping key names; null for an unknown key. */
  async function tenantOfPingKey(pingKey: string): Promise<string | null> {
    const row = await db.selectFrom('tenant_settings').select('tenant_id').where('ping_key', '=', pingKey).executeTakeFirst();
    return row?.tenant_id ?? null;
  }

  const service = {
    get,
    getByPingUuid,

    /**
     * Where a slug ping goes. With `create`, a missing check is made with the defaults, its name
     * the slug and every channel of the tenant, as Healthchecks' auto-provisioning does.
     */
    async pingTargetBySlug(pingKey: string, slug: string, create: boolean): Promise<SlugTarget> {
      const tenantId = await tenantOfPingKey(pingKey);
      if (tenantId === null) return 'not_found';
      const found = slugTarget(await checksWithSlug(db, tenantId, slug));
      if (found) return found;
      if (!create) return 'not_found';
      // One creation per (tenant, slug) at a time, looked for again once it is our turn (slug-creation.ts).
      return slugCreations(`${tenantId}\n${slug}`, () =>
        db.transaction().execute(async (trx): Promise<SlugTarget> => {
          await lockSlugCreation(trx, tenantId);
          const made = slugTarget(await checksWithSlug(trx, tenantId, slug));
          if (made) return made;
          const input = { ...NEW_CHECK, name: slug, slug };
          check(input);
          return { pingUuid: await insertCheck(trx, tenantId, randomUUID(), input, clock.now()), created: true };
        }),
      );
    },

    /** The tenant's ping key (every tenant has one). */
    pingKey: (tenantId: string): Promise<string> => readPingKey(db, tenantId),

    async create(tenantId: string, input: HeartbeatInput): Promise<HeartbeatCheck> {
      check(input);
      const id = randomUUID();
      const now = clock.now();
      await db.transaction().execute((trx) => insertCheck(trx, tenantId, id, input, now));
      return get(tenantId, id);
    },

    /** Changes settings; a new schedule applies from the next ping. */
    async update(tenantId: string, id: string, input: HeartbeatInput): Promise<HeartbeatCheck> {
      await get(tenantId, id);
      check(input);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await updateMonitor(trx, tenantId, id, { name: input.name }, now);
        await replaceTags(trx, tenantId, id, input.tags);
        await trx.updateTable('heartbeat_checks').set(settingsColumns(input)).where('monitor_id', '=', id).where('tenant_id', '=', tenantId).execute();
      });
      return get(tenantId, id);
    },

    remove: (tenantId: string, id: string) => get(tenantId, id).then(() => monitors.remove(tenantId, id)),

    /** Paused: no deadlines, no alerts, until resumed (or pinged, unless manual_resume); see kinds/heartbeat. */
    async pause(tenantId: string, id: string): Promise<HeartbeatCheck> {
      await get(tenantId, id);
      await monitors.pause(tenantId, id);
      return get(tenantId, id);
    },

    /** Back to `new`, as Healthchecks does: the next ping starts the schedule again. */
    async resume(tenantId: string, id: string): Promise<HeartbeatCheck> {
      if ((await get(tenantId, id)).status !== 'paused') throw new ConflictError('The check is not paused');
      await monitors.resume(tenantId, id);
      return get(tenantId, id);
    },
  };
  return service;
}

export type HeartbeatsService = ReturnType<typeof createHeartbeatsService>;
