/**
 * The delivery loop's work: claim due outbox rows, send each through its channel's provider,
 * record the attempt, and mark the row sent, due again later (retryable failure, backoff.ts), or
 * failed. A claim is a compare-and-set that moves the row to `sending` and its due_at to the end
 * of a lease (SKIP LOCKED on PostgreSQL, so workers take different rows): if the sender dies,
 * the row falls due again when the lease runs out and is sent with the same idempotency key.
 * Delivery is therefore at least once, and exactly once for every receiver that honours the key
 * (the e-mail Message-ID, the webhook header, PagerDuty's dedup_key).
 */
import { notificationEvent } from '../realtime/events.js';
import { silentHub, type Hub } from '../realtime/hub.js';
import { stageEvent, stagedEvents } from '../realtime/staged.js';
import type { RealtimeEvent } from '../realtime/topics.js';
import type { Clock } from '../clock.js';
import { dialectOf, inTransaction, type Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { providerFor } from '../notify/index.js';
import type { Notification, NotificationItem } from '../notify/notification.js';
import type { ProviderSettings, SendResult } from '../notify/provider.js';
import { nextAttemptAt } from './backoff.js';
import { findChannel } from './channels.repository.js';
import { tenantForMessages } from './tenant-info.js';
import type { MonitorKind, MonitorState } from '../monitors/kinds.js';

const DETAIL_MAX_CHARS = 1000;

export interface ClaimedNotification {
  id: string;
  tenant_id: string;
  channel_id: string;
  idempotency_key: string;
  attempts: number;
  created_at: number;
}

export interface DeliveryOutcome {
  row: ClaimedNotification;
  result: SendResult;
  startedAt: number;
  finishedAt: number;
  /** The channel's kind, for the log line of a failure (null: the channel is gone). */
  channelKind?: string | null;
}

export interface DeliveryOptions {
  db: Db;
  clock: Clock;
  providerSettings: ProviderSettings;
  logger?: Logger;
  /** Told what became of each recorded attempt (sent, retry, failed), for /metrics. */
  onOutcome?: (outcome: 'sent' | 'retry' | 'failed') => void;
  /** The realtime hub: each recorded outcome is published once its transaction commits. */
  hub?: Hub;
}

export function createDelivery({ db, clock, providerSettings, logger, onOutcome, hub = silentHub }: DeliveryOptions) {
  /** Longer than any one send can take (the provider's timeout), with room to record the result. */
  const leaseMs = Math.max(60_000, providerSettings.timeoutMs * 3);

  /** Claims up to `limit` due rows, in the given transaction or in one of its own. */
  async function claim(limit: number, within?: Db): Promise<ClaimedNotification[]> {
    if (limit <= 0) return [];
    const now = clock.now();
    return inTransaction(db, within, async (trx) => {
      const due = dialectOf(trx).claimRows(
        trx.selectFrom('notifications').select('id').where('status', 'in', ['pending', 'sending']).where('due_at', '<=', now).orderBy('due_at').orderBy('id').limit(limit),
      );
      return trx
        .updateTable('notifications')
        .set((eb) => ({
          status: 'sending',
          attempts: eb('attempts', '+', 1),
          due_at: now + leaseMs,
          open_group: null,
          first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(now)),
        }))
        .where('id', 'in', due)
        .where('status', 'in', ['pending', 'sending'])
        .where('due_at', '<=', now)
        .returning(['id', 'tenant_id', 'channel_id', 'idempotency_key', 'attempts', 'created_at'])
        .execute();
    });
  }

  /** The message a row stands for: its events, oldest first, with their monitors. */
  async function buildNotification(row: ClaimedNotification): Promise<Notification | null> {
    const events = await db
      .selectFrom('notification_items')
      .innerJoin('alert_events', 'alert_events.id', 'notification_items.event_id')
      .innerJoin('monitors', 'monitors.id', 'alert_events.monitor_id')
      .select([
        'alert_events.kind',
        'alert_events.monitor_id',
        'monitors.name',
        'monitors.kind as monitor_kind',
        'alert_events.from_state',
        'alert_events.to_state',
        'alert_events.reason',
        'alert_events.at',
        'alert_events.incident_id',
        'alert_events.down_for_ms',
      ])
      .where('notification_items.notification_id', '=', row.id)
      .orderBy('alert_events.at')
      .orderBy('alert_events.id')
      .execute();
    if (events.length === 0) return null;
    const items = events.map((e): NotificationItem => ({
      monitorId: e.monitor_id,
      monitorName: e.name,
      monitorKind: e.monitor_kind as MonitorKind,
      fromState: e.from_state as MonitorState,
      toState: e.to_state as MonitorState,
      reason: e.reason,
      at: e.at,
      incidentId: e.incident_id,
      downForMs: e.down_for_ms,
    }));
    return {
      kind: events.every((e) => e.kind === 'reminder') ? 'reminder' : 'alert',
      tenant: await tenantForMessages(db, row.tenant_id),
      items: items as [NotificationItem, ...NotificationItem[]],
    };
  }

  async function send(row: ClaimedNotification): Promise<{ result: SendResult; channelKind: string | null }> {
    const channel = await findChannel(db, row.tenant_id, row.channel_id);
    if (!channel) return { channelKind: null, result: { ok: false, retryable: false, detail: 'The channel was deleted before delivery' } };
    const channelKind = channel.kind;
    if (!channel.isActive) return { channelKind, result: { ok: false, retryable: false, detail: 'The channel was deactivated before delivery' } };
    const notification = await buildNotification(row);
    if (!notification) return { channelKind, result: { ok: false, retryable: false, detail: 'Nothing left to send: the monitors were deleted' } };
    try {
      return { channelKind, result: await providerFor(channel.kind).send(channel.config, notification, { idempotencyKey: row.idempotency_key, settings: providerSettings }) };
    } catch (error) {
      // Providers report failures as results; anything thrown is unexpected, and worth a retry.
      logger?.error({ err: error, notification: row.id, channel: row.channel_id, kind: channelKind }, 'notification provider threw');
      return { channelKind, result: { ok: false, retryable: true, detail: `Unexpected error: ${(error as Error).message}` } };
    }
  }

  /**
   * Writes what became of one send: the attempt, and the row sent, due again later, or failed.
   * Only while the row is still ours (same status and attempt count as when claimed): a row taken
   * over after our lease ran out belongs to its new sender.
   */
  async function recordOutcome(trx: Db, outcome: DeliveryOutcome): Promise<void> {
    const { row, result, startedAt, finishedAt } = outcome;
    const detail = result.detail.slice(0, DETAIL_MAX_CHARS);
    const retryAt = result.ok || !result.retryable ? null : nextAttemptAt(row.created_at, row.attempts, finishedAt);
    const next = result.ok
      ? { status: 'sent', sent_at: finishedAt, last_error: null }
      : retryAt !== null
        ? { status: 'pending', due_at: retryAt, last_error: detail }
        : { status: 'failed', last_error: detail };
    const updated = await trx.updateTable('notifications').set(next).where('id', '=', row.id).where('status', '=', 'sending').where('attempts', '=', row.attempts).executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return;
    onOutcome?.(result.ok ? 'sent' : retryAt !== null ? 'retry' : 'failed');
    stageEvent(trx, notificationEvent(row.tenant_id, row.id, row.channel_id, result.ok ? 'sent' : retryAt !== null ? 'retry' : 'failed', finishedAt));
    await trx
      .insertInto('notification_attempts')
      .values({
        notification_id: row.id,
        tenant_id: row.tenant_id,
        at: startedAt,
        ok: result.ok ? 1 : 0,
        retryable: result.retryable ? 1 : 0,
        status: result.status ?? null,
        detail,
        duration_ms: Math.max(0, finishedAt - startedAt),
      })
      .execute();
    // Every failed attempt, so that a channel failing silently (e-mail without SMTP) shows in the log.
    if (!result.ok) {
      logger?.warn(
        { notification: row.id, channel: row.channel_id, kind: outcome.channelKind ?? null, attempts: row.attempts, retryAt, reason: detail },
        retryAt ? 'notification failed, will retry' : 'notification failed for good',
      );
    }
  }

  /** Sends one claimed row; writes nothing (see recordOutcome). */
  async function attempt(row: ClaimedNotification): Promise<DeliveryOutcome> {
    const startedAt = clock.now();
    const { result, channelKind } = await send(row);
    return { row, result, startedAt, finishedAt: clock.now(), channelKind };
  }

  /** Sends one claimed row and records the outcome in its own transaction. */
  async function deliver(row: ClaimedNotification): Promise<void> {
    const outcome = await attempt(row);
    hub.publish(...(await db.transaction().execute(async (trx) => (await recordOutcome(trx, outcome), stagedEvents(trx)))));
  }

  return {
    claim,
    attempt,
    recordOutcome,
    /** Publishes what recordOutcome staged on a transaction (`stagedEvents(trx)`), once it has committed. */
    committed: (events: readonly RealtimeEvent[]) => hub.publish(...events),
    deliver,
    /** Claims what is due and sends it all, waiting for every send (tests; the server's loop, alerting-work.ts, uses claim / attempt / recordOutcome). */
    async deliverDue(limit = 100): Promise<number> {
      const rows = await claim(limit);
      await Promise.all(rows.map(deliver));
      return rows.length;
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
