/** Channel rows: the one module that reads and writes `channels`, always within one tenant. */
import type { Db } from '../db/database.js';
import type { ChannelsTable } from '../db/tables/alerting.table.js';
import type { ChannelKind } from '../notify/provider.js';
import type { Severity } from './events.js';

export interface Channel {
  id: string;
  tenantId: string;
  name: string;
  kind: ChannelKind;
  /** The provider's config, secrets included: never hand this to a response as is. */
  config: Record<string, unknown>;
  sendResolved: boolean;
  /** Null: every severity. */
  severities: Severity[] | null;
  /** Null: monitors whatever their tags. */
  tags: string[] | null;
  isActive: boolean;
  isDefaultEmail: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The name of the channel that follows the tenant's notification_email setting. */
export const DEFAULT_EMAIL_CHANNEL_NAME = 'Default e-mail';

type Row = Omit<ChannelsTable, 'send_resolved' | 'is_active' | 'is_default_email'> & { send_resolved: number; is_active: number; is_default_email: number };

const parseList = <T>(json: string | null): T[] | null => (json === null ? null : (JSON.parse(json) as T[]));

export const toChannel = (row: Row): Channel => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  kind: row.kind as ChannelKind,
  config: JSON.parse(row.config_json) as Record<string, unknown>,
  sendResolved: row.send_resolved === 1,
  severities: parseList<Severity>(row.severities_json),
  tags: parseList<string>(row.tags_json),
  isActive: row.is_active === 1,
  isDefaultEmail: row.is_default_email === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const listJson = (list: readonly string[] | null) => (list === null ? null : JSON.stringify([...new Set(list)]));

export async function insertChannel(db: Db, channel: Channel): Promise<void> {
  await db
    .insertInto('channels')
    .values({
      id: channel.id,
      tenant_id: channel.tenantId,
      name: channel.name,
      kind: channel.kind,
      config_json: JSON.stringify(channel.config),
      send_resolved: channel.sendResolved ? 1 : 0,
      severities_json: listJson(channel.severities),
      tags_json: listJson(channel.tags),
      is_active: channel.isActive ? 1 : 0,
      is_default_email: channel.isDefaultEmail ? 1 : 0,
      created_at: channel.createdAt,
      updated_at: channel.updatedAt,
    })
    .execute();
}

export type ChannelChanges = Partial<Pick<Channel, 'name' | 'config' | 'sendResolved' | 'severities' | 'tags' | 'isActive'>>;

export async function updateChannel(db: Db, tenantId: string, channelId: string, changes: ChannelChanges, now: number): Promise<void> {
  await db
    .updateTable('channels')
    .set({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.config !== undefined && { config_json: JSON.stringify(changes.config) }),
      ...(changes.sendResolved !== undefined && { send_resolved: changes.sendResolved ? 1 : 0 }),
      ...(changes.severities !== undefined && { severities_json: listJson(changes.severities) }),
      ...(changes.tags !== undefined && { tags_json: listJson(changes.tags) }),
      ...(changes.isActive !== undefined && { is_active: changes.isActive ? 1 : 0 }),
      updated_at: now,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', channelId)
    .execute();
}

export async function findChannel(db: Db, tenantId: string, channelId: string): Promise<Channel | undefined> {
  const row = await db.selectFrom('channels').selectAll().where('tenant_id', '=', tenantId).where('id', '=', channelId).executeTakeFirst();
  return row && toChannel(row);
}

export async function listChannels(db: Db, tenantId: string): Promise<Channel[]> {
  const rows = await db.selectFrom('channels').selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('id').execute();
  return rows.map(toChannel);
}

export async function deleteChannel(db: Db, tenantId: string, channelId: string): Promise<boolean> {
  const result = await db.deleteFrom('channels').where('tenant_id', '=', tenantId).where('id', '=', channelId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Keeps the tenant's default e-mail channel in step with its notification_email setting: created
 * on first use, readdressed on change, deactivated (not deleted: its history stays) when cleared.
 */
export async function syncDefaultEmailChannel(db: Db, tenantId: string, email: string | null, now: number, newId: () => string): Promise<void> {
  const existing = await db.selectFrom('channels').select('id').where('tenant_id', '=', tenantId).where('is_default_email', '=', 1).executeTakeFirst();
  if (existing) {
    await db
      .updateTable('channels')
      .set({ ...(email !== null && { config_json: JSON.stringify({ to: [email] }) }), is_active: email === null ? 0 : 1, updated_at: now })
      .where('id', '=', existing.id)
      .execute();
  } else if (email !== null) {
    const id = newId();
    const nameTaken = await db.selectFrom('channels').select('id').where('tenant_id', '=', tenantId).where('name', '=', DEFAULT_EMAIL_CHANNEL_NAME).executeTakeFirst();
    await insertChannel(db, {
      id,
      tenantId,
      // A user's own channel may already bear the name; names are unique per tenant.
      name: nameTaken ? `${DEFAULT_EMAIL_CHANNEL_NAME} ${id.slice(0, 8)}` : DEFAULT_EMAIL_CHANNEL_NAME,
      kind: 'email',
      config: { to: [email] },
      sendResolved: true,
      severities: null,
      tags: null,
      isActive: true,
      isDefaultEmail: true,
      createdAt: now,
      updatedAt: now,
    });
  }
}
