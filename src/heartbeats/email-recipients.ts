/**
 * Which check an e-mail ping is for. As in Healthchecks, a check has two addresses:
 * `{ping_uuid}@{PING_EMAIL_DOMAIN}` and `{ping_key}+{slug}@{PING_EMAIL_DOMAIN}` (the project's ping
 * key, then the check's slug, as in `/ping/{ping_key}/{slug}`). Like a ping URL, the address is
 * the secret: it is resolved across tenants, by the unguessable UUID or ping key it holds.
 */
import type { Db } from '../db/database.js';
import type { KeywordFilter } from './email-filter.js';
import type { HeartbeatsService } from './heartbeats.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_AND_SLUG = /^([A-Za-z0-9_-]{1,64})\+([a-z0-9_-]{1,100})$/;

/** A recipient address, read: the check's ping UUID, or its ping key and slug; null when it names no check of ours. */
export type Mailbox = { uuid: string } | { pingKey: string; slug: string };

export function parseRecipient(address: string, domain: string): Mailbox | null {
  const at = address.lastIndexOf('@');
  if (at <= 0) return null;
  // Domains are case-insensitive; the local part is not (ping keys are case-sensitive).
  if (address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null;
  const local = address.slice(0, at);
  if (UUID.test(local)) return { uuid: local.toLowerCase() };
  const keyAndSlug = KEY_AND_SLUG.exec(local);
  return keyAndSlug ? { pingKey: keyAndSlug[1]!, slug: keyAndSlug[2]! } : null;
}

/** A check an e-mail can ping: its ping UUID and keyword filter. */
export interface EmailTarget extends KeywordFilter {
  pingUuid: string;
}

export function createEmailRecipients({ db, heartbeats }: { db: Db; heartbeats: Pick<HeartbeatsService, 'pingTargetBySlug'> }) {
  async function byPingUuid(pingUuid: string): Promise<EmailTarget | null> {
    const row = await db
      .selectFrom('heartbeat_checks')
      .select(['ping_uuid', 'filter_subject', 'filter_body', 'start_kw', 'success_kw', 'failure_kw', 'filter_default_fail'])
      .where('ping_uuid', '=', pingUuid)
      .executeTakeFirst();
    if (!row?.ping_uuid) return null;
    return {
      pingUuid: row.ping_uuid,
      filterSubject: row.filter_subject === 1,
      filterBody: row.filter_body === 1,
      startKw: row.start_kw,
      successKw: row.success_kw,
      failureKw: row.failure_kw,
      defaultFail: row.filter_default_fail === 1,
    };
  }

  return {
    /** The check an address names, or null (unknown check, ping key or domain: refused at RCPT time). */
    async resolve(address: string, domain: string): Promise<EmailTarget | null> {
      const mailbox = parseRecipient(address, domain);
      if (mailbox === null) return null;
      if ('uuid' in mailbox) return byPingUuid(mailbox.uuid);
      // Never `create`: an e-mail to a new slug is refused, not a new check.
      // A slug that names no check, or several (Healthchecks' "ambiguous slug"), is refused.
      const target = await heartbeats.pingTargetBySlug(mailbox.pingKey, mailbox.slug, false);
      return typeof target === 'string' ? null : byPingUuid(target.pingUuid);
    },
  };
}

export type EmailRecipients = ReturnType<typeof createEmailRecipients>;
