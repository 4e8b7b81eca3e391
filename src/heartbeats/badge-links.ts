/**
 * Which checks a public badge URL names, and the URLs a tenant can hand out — Healthchecks'
 * scheme, so its users find the same links:
 *
 * - per tag: `/badge/{project badge key}/{signature}[-2]/{tag}.{svg|json|shields}`
 * - all checks: `/badge/{project badge key}/{signature}[-2].{svg|json|shields}` (the `*` pseudo-tag)
 * - per check: `/b/{2|3}/{check badge key}.{svg|json|shields}`
 *
 * `-2` (and `/b/2/`) are the two-state badges (a check in grace still counts as up), the default
 * links; without it the badge has three states (up, late, down). The signature is an HMAC of the
 * key and tag under SECRET_KEY, so knowing a project's badge key does not let anyone probe for
 * tag names; changing SECRET_KEY changes every tag badge URL (per-check ones stay). Badges show
 * only a label and an aggregate status: nothing in them leads to a ping URL.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { HeartbeatState } from './schedule.js';

export const BADGE_FORMATS = ['svg', 'json', 'shields'] as const;
export type BadgeFormat = (typeof BADGE_FORMATS)[number];

/** The `*` pseudo-tag: every check of the tenant. */
export const ALL_CHECKS = '*';

export interface BadgeTarget {
  label: string;
  states: HeartbeatState[];
  withLate: boolean;
}

export type BadgeLinks = Record<`${BadgeFormat}${'' | '3'}`, string>;

export function createBadgeLinks({ db, secretKey }: { db: Db; secretKey: string }) {
  const signature = (badgeKey: string, tag: string) => createHmac('sha256', secretKey).update(`badge:${badgeKey}:${tag}`).digest('base64url').slice(0, 8);

  function signatureMatches(badgeKey: string, tag: string, given: string): boolean {
    const expected = Buffer.from(signature(badgeKey, tag));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** The tenant's project badge key, made on first use (URL-safe, 128 random bits). */
  async function projectKey(tenantId: string): Promise<string> {
    const current = await db.selectFrom('tenant_settings').select('badge_key').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    if (current.badge_key) return current.badge_key;
    await db
      .updateTable('tenant_settings')
      .set({ badge_key: randomBytes(16).toString('base64url') })
      .where('tenant_id', '=', tenantId)
      .where('badge_key', 'is', null)
      .execute();
    return projectKey(tenantId);
  }

  /** Statuses of the tenant's heartbeat checks, all or those with `tag`. */
  async function statesOf(tenantId: string, tag: string | null): Promise<HeartbeatState[]> {
    let query = db.selectFrom('heartbeat_checks').select('heartbeat_checks.status').where('heartbeat_checks.tenant_id', '=', tenantId);
    if (tag !== null) {
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('monitor_tags').select('monitor_tags.tag').whereRef('monitor_tags.monitor_id', '=', 'heartbeat_checks.monitor_id').where('monitor_tags.tag', '=', tag)),
      );
    }
    return (await query.execute()).map((row) => row.status as HeartbeatState);
  }

  return {
    /** Every tag of the tenant's heartbeat checks, and `*`, with its six badge URLs. */
    async links(tenantId: string, baseUrl: string): Promise<Record<string, BadgeLinks>> {
      const key = await projectKey(tenantId);
      const rows = await db
        .selectFrom('monitor_tags')
        .innerJoin('heartbeat_checks', 'heartbeat_checks.monitor_id', 'monitor_tags.monitor_id')
        .select('monitor_tags.tag')
        .distinct()
        .where('heartbeat_checks.tenant_id', '=', tenantId)
        .orderBy('monitor_tags.tag')
        .execute();
      const out: Record<string, BadgeLinks> = {};
      for (const tag of [...rows.map((r) => r.tag), ALL_CHECKS]) {
        const sig = signature(key, tag);
        const path = tag === ALL_CHECKS ? (s: string) => `${baseUrl}/badge/${key}/${s}` : (s: string) => `${baseUrl}/badge/${key}/${s}/${encodeURIComponent(tag)}`;
        out[tag] = {
          svg: `${path(`${sig}-2`)}.svg`,
          svg3: `${path(sig)}.svg`,
          json: `${path(`${sig}-2`)}.json`,
          json3: `${path(sig)}.json`,
          shields: `${path(`${sig}-2`)}.shields`,
          shields3: `${path(sig)}.shields`,
        };
      }
      return out;
    },

    /** What a tag (or `*`) badge URL shows; null when the key or signature is wrong. */
    async byTag(badgeKey: string, signed: string, tag: string): Promise<BadgeTarget | null> {
      const withLate = !signed.endsWith('-2');
      const sig = withLate ? signed : signed.slice(0, -2);
      const tenant = await db
        .selectFrom('tenant_settings')
        .innerJoin('tenants', 'tenants.id', 'tenant_settings.tenant_id')
        .select(['tenant_settings.tenant_id', 'tenants.name'])
        .where('tenant_settings.badge_key', '=', badgeKey)
        .executeTakeFirst();
      if (!tenant || !signatureMatches(badgeKey, tag, sig)) return null;
      const states = await statesOf(tenant.tenant_id, tag === ALL_CHECKS ? null : tag);
      return { label: tag === ALL_CHECKS ? tenant.name : tag, states, withLate };
    },

    /** What a check's badge URL shows; null for an unknown key. */
    async byCheck(checkBadgeKey: string, withLate: boolean): Promise<BadgeTarget | null> {
      const row = await db
        .selectFrom('heartbeat_checks')
        .innerJoin('monitors', 'monitors.id', 'heartbeat_checks.monitor_id')
        .select(['monitors.name', 'heartbeat_checks.status'])
        .where('heartbeat_checks.badge_key', '=', checkBadgeKey)
        .executeTakeFirst();
      return row ? { label: row.name, states: [row.status as HeartbeatState], withLate } : null;
    },
  };
}

export type BadgeLinksService = ReturnType<typeof createBadgeLinks>;
