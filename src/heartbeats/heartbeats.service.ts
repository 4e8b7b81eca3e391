/**
 * Heartbeat checks of a tenant: create, change, pause, resume. Each is a monitor of kind
 * `heartbeat` (failure and recovery thresholds of 1: a missed deadline or a fail ping is down at
 * once, the next success is up) with its schedule and Healthchecks status beside it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isValidTimeZone } from '../auth/tenants.service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../errors.js';
import { createMonitorWithSettings } from '../monitors/create-monitor.js';
import { replaceTags, updateMonitor } from '../monitors/monitors.repository.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { findHeartbeat, findHeartbeatByPingUuid, type HeartbeatCheck } from './heartbeats.repository.js';
import { scheduleProblem } from './schedule.js';

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

export function createHeartbeatsService({ db, clock, monitors }: { db: Db; clock: Clock; monitors: MonitorsService }) {
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

  const slugTaken = (slug: string) => new ConflictError(`A check with the slug "${slug}" already exists`);

  /** The tenant a ping key names; null for an unknown key. */
  async function tenantOfPingKey(pingKey: string): Promise<string | null> {
    const row = await db.selectFrom('tenant_settings').select('tenant_id').where('ping_key', '=', pingKey).executeTakeFirst();
    return row?.tenant_id ?? null;
  }

  const service = {
    get,
    getByPingUuid,

    /** The ping UUID a ping key and slug name; with `create`, a missing check is made with the defaults (Healthchecks' auto-provisioning). */
    async pingTargetBySlug(pingKey: string, slug: string, create: boolean): Promise<string | null> {
      const tenantId = await tenantOfPingKey(pingKey);
      if (tenantId === null) return null;
      const row = await db.selectFrom('heartbeat_checks').select('ping_uuid').where('tenant_id', '=', tenantId).where('slug', '=', slug).executeTakeFirst();
      if (row) return row.ping_uuid;
      if (!create) return null;
      try {
        return (await service.create(tenantId, { ...NEW_CHECK, name: slug, slug })).pingUuid;
      } catch (error) {
        if (error instanceof ConflictError) return service.pingTargetBySlug(pingKey, slug, false); // made by a ping racing this one
        throw error;
      }
    },

    /** The tenant's ping key, made on first use (22 URL-safe characters, 128 random bits). */
    async pingKey(tenantId: string): Promise<string> {
      const current = await db.selectFrom('tenant_settings').select('ping_key').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      if (current.ping_key) return current.ping_key;
      await db
        .updateTable('tenant_settings')
        .set({ ping_key: randomBytes(16).toString('base64url') })
        .where('tenant_id', '=', tenantId)
        .where('ping_key', 'is', null)
        .execute();
      return service.pingKey(tenantId);
    },

    async create(tenantId: string, input: HeartbeatInput): Promise<HeartbeatCheck> {
      check(input);
      const id = randomUUID();
      const now = clock.now();
      try {
        await db.transaction().execute(async (trx) => {
          await createMonitorWithSettings(
            trx,
            // A missed deadline or a fail ping is down at once; the next success is up.
            { id, tenantId, kind: 'heartbeat', name: input.name, tags: input.tags, failureThreshold: 1, recoveryThreshold: 1, now },
            'heartbeat_checks',
            {
              ping_uuid: randomUUID(),
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
        });
      } catch (error) {
        if (isUniqueViolation(error) && input.slug !== null) throw slugTaken(input.slug);
        throw error;
      }
      return get(tenantId, id);
    },

    /** Changes settings; a new schedule applies from the next ping. */
    async update(tenantId: string, id: string, input: HeartbeatInput): Promise<HeartbeatCheck> {
      await get(tenantId, id);
      check(input);
      const now = clock.now();
      try {
        await db.transaction().execute(async (trx) => {
          await updateMonitor(trx, tenantId, id, { name: input.name }, now);
          await replaceTags(trx, tenantId, id, input.tags);
          await trx.updateTable('heartbeat_checks').set(settingsColumns(input)).where('monitor_id', '=', id).where('tenant_id', '=', tenantId).execute();
        });
      } catch (error) {
        if (isUniqueViolation(error) && input.slug !== null) throw slugTaken(input.slug);
        throw error;
      }
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
