/**
 * Silences: while one whose matchers fit a monitor is in force, that monitor's alert events are
 * recorded but notify no one. Kept after they end (listed as `expired`), as Alertmanager does;
 * expiring one early sets its end to now.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { SilencesTable } from '../db/tables/alerting.table.js';
import { definedOnly, NotFoundError, ValidationError } from '../errors.js';
import { isRegexMatcher, regexProblem, type Matcher } from './matchers.js';

export const SILENCE_STATES = ['pending', 'active', 'expired'] as const;
export type SilenceState = (typeof SILENCE_STATES)[number];

export interface Silence {
  id: string;
  tenantId: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface SilenceInput {
  matchers: Matcher[];
  startsAt?: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < silence.startsAt) return 'pending';
  return now < silence.endsAt ? 'active' : 'expired';
}

const toSilence = (row: SilencesTable): Silence => ({
  id: row.id,
  tenantId: row.tenant_id,
  matchers: JSON.parse(row.matchers_json) as Matcher[],
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  comment: row.comment,
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function checkSilence(matchers: Matcher[], startsAt: number, endsAt: number): void {
  const problems = matchers.flatMap((matcher, i) => {
    const problem = isRegexMatcher(matcher) ? regexProblem(matcher.value) : null;
    return problem ? [{ loc: ['body', 'matchers', i, 'value'], msg: problem, type: 'value_error' }] : [];
  });
  if (endsAt <= startsAt) problems.push({ loc: ['body', 'ends_at'], msg: 'ends_at must be after starts_at', type: 'value_error' });
  if (problems.length) throw new ValidationError(problems);
}

/** Silences in force at `now` for a tenant: what the router checks every event against. */
export async function activeSilences(db: Db, tenantId: string, now: number): Promise<Silence[]> {
  const rows = await db.selectFrom('silences').selectAll().where('tenant_id', '=', tenantId).where('ends_at', '>', now).where('starts_at', '<=', now).execute();
  return rows.map(toSilence);
}

export function createSilencesService({ db, clock }: { db: Db; clock: Clock }) {
  const get = async (tenantId: string, silenceId: string): Promise<Silence> => {
    const row = await db.selectFrom('silences').selectAll().where('tenant_id', '=', tenantId).where('id', '=', silenceId).executeTakeFirst();
    if (!row) throw new NotFoundError('Silence');
    return toSilence(row);
  };

  return {
    get,

    async list(tenantId: string, state?: SilenceState): Promise<Silence[]> {
      const now = clock.now();
      let query = db.selectFrom('silences').selectAll().where('tenant_id', '=', tenantId);
      if (state === 'pending') query = query.where('starts_at', '>', now);
      if (state === 'active') query = query.where('starts_at', '<=', now).where('ends_at', '>', now);
      if (state === 'expired') query = query.where('ends_at', '<=', now);
      const rows = await query.orderBy('ends_at', 'desc').orderBy('id').execute();
      return rows.map(toSilence);
    },

    async create(tenantId: string, input: SilenceInput): Promise<Silence> {
      const now = clock.now();
      const startsAt = input.startsAt ?? now;
      checkSilence(input.matchers, startsAt, input.endsAt);
      const silence: Silence = {
        id: randomUUID(),
        tenantId,
        matchers: input.matchers,
        startsAt,
        endsAt: input.endsAt,
        comment: input.comment,
        createdBy: input.createdBy,
        createdAt: now,
        updatedAt: now,
      };
      await db
        .insertInto('silences')
        .values({
          id: silence.id,
          tenant_id: tenantId,
          matchers_json: JSON.stringify(silence.matchers),
          starts_at: silence.startsAt,
          ends_at: silence.endsAt,
          comment: silence.comment,
          created_by: silence.createdBy,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return silence;
    },

    async update(tenantId: string, silenceId: string, changes: Partial<Pick<Silence, 'matchers' | 'startsAt' | 'endsAt' | 'comment'>>): Promise<Silence> {
      const silence = await get(tenantId, silenceId);
      const next = { ...silence, ...definedOnly(changes) };
      checkSilence(next.matchers, next.startsAt, next.endsAt);
      await db
        .updateTable('silences')
        .set({ matchers_json: JSON.stringify(next.matchers), starts_at: next.startsAt, ends_at: next.endsAt, comment: next.comment, updated_at: clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', silenceId)
        .execute();
      return get(tenantId, silenceId);
    },

    /** Ends a silence now (a pending one ends before it starts); an expired one is left as it is. */
    async expire(tenantId: string, silenceId: string): Promise<Silence> {
      const silence = await get(tenantId, silenceId);
      const now = clock.now();
      if (silence.endsAt > now) {
        await db
          .updateTable('silences')
          .set({ ends_at: now, starts_at: Math.min(silence.startsAt, now), updated_at: now })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', silenceId)
          .execute();
      }
      return get(tenantId, silenceId);
    },

    async remove(tenantId: string, silenceId: string): Promise<void> {
      const result = await db.deleteFrom('silences').where('tenant_id', '=', tenantId).where('id', '=', silenceId).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError('Silence');
    },
  };
}

export type SilencesService = ReturnType<typeof createSilencesService>;
