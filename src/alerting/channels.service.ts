/**
 * Channels of a tenant: create, change, list, delete, and the test button. Configs are checked
 * by the provider of their kind; secrets are write-only (see channel-config.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { providerFor } from '../notify/index.js';
import { testNotification } from '../notify/notification.js';
import type { ChannelKind, ProviderSettings, SendResult } from '../notify/provider.js';
import { mergeSecrets, validateChannelConfig } from './channel-config.js';
import { deleteChannel, findChannel, insertChannel, listChannels, updateChannel, type Channel, type ChannelChanges } from './channels.repository.js';
import { lastDeliveries } from './delivery-status.js';
import type { Severity } from './events.js';
import { tenantForMessages } from './tenant-info.js';

export interface NewChannelInput {
  name: string;
  kind: ChannelKind;
  config: Record<string, unknown>;
  sendResolved?: boolean;
  severities?: Severity[] | null;
  tags?: string[] | null;
  isActive?: boolean;
}

const nameTaken = (name: string) => new ConflictError(`A channel named "${name}" already exists`);

/** The default e-mail channel follows the tenant's setting: its address and existence are changed there. */
const followsSettings = () => new ConflictError("This channel follows the tenant's notification_email setting: change or clear the address with PATCH /api/v1/settings");

export function createChannelsService({ db, clock, providerSettings }: { db: Db; clock: Clock; providerSettings: ProviderSettings }) {
  const get = async (tenantId: string, channelId: string): Promise<Channel> => {
    const channel = await findChannel(db, tenantId, channelId);
    if (!channel) throw new NotFoundError('Channel');
    return channel;
  };

  return {
    get,
    list: (tenantId: string) => listChannels(db, tenantId),
    /** Each channel's latest delivery attempt (all of the tenant's, or one channel's). */
    lastDeliveries: (tenantId: string, channelId?: string) => lastDeliveries(db, tenantId, channelId),

    async create(tenantId: string, input: NewChannelInput): Promise<Channel> {
      const provider = providerFor(input.kind);
      validateChannelConfig(provider, input.config);
      const now = clock.now();
      const channel: Channel = {
        id: randomUUID(),
        tenantId,
        name: input.name.trim(),
        kind: input.kind,
        config: input.config,
        sendResolved: input.sendResolved ?? true,
        severities: input.severities ?? null,
        tags: input.tags ?? null,
        isActive: input.isActive ?? true,
        isDefaultEmail: false,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await insertChannel(db, channel);
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(channel.name);
        throw error;
      }
      return channel;
    },

    async update(tenantId: string, channelId: string, changes: ChannelChanges): Promise<Channel> {
      const channel = await get(tenantId, channelId);
      if (channel.isDefaultEmail && (changes.config !== undefined || changes.isActive !== undefined)) throw followsSettings();
      const next: ChannelChanges = { ...changes, ...(changes.name !== undefined && { name: changes.name.trim() }) };
      if (changes.config !== undefined) {
        const provider = providerFor(channel.kind);
        next.config = mergeSecrets(provider, channel.config, changes.config);
        validateChannelConfig(provider, next.config);
      }
      try {
        await updateChannel(db, tenantId, channelId, next, clock.now());
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(next.name ?? channel.name);
        throw error;
      }
      return get(tenantId, channelId);
    },

    async remove(tenantId: string, channelId: string): Promise<void> {
      const channel = await get(tenantId, channelId);
      if (channel.isDefaultEmail) throw followsSettings();
      await deleteChannel(db, tenantId, channelId);
    },

    /** Sends a made-up alert through the channel now, outside the outbox, and says how it went. */
    async test(tenantId: string, channelId: string): Promise<SendResult> {
      const channel = await get(tenantId, channelId);
      const tenant = await tenantForMessages(db, tenantId);
      return providerFor(channel.kind).send(channel.config, testNotification(tenant, clock.now()), {
        idempotencyKey: `test:${randomUUID()}`,
        settings: providerSettings,
      });
    },
  };
}

export type ChannelsService = ReturnType<typeof createChannelsService>;
