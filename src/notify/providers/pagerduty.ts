/**
 * PagerDuty Events API v2. PagerDuty tracks one alert per `dedup_key`, and Vigie one incident
 * per monitor outage, so the incident id is the dedup key: the flip that opens the incident
 * triggers the alert, the flip that ends it resolves the same alert. One event per item, since
 * a grouped message still concerns several PagerDuty alerts. Re-sending a trigger for an open
 * alert only adds to its log, so a retry that repeats earlier events of a group is harmless.
 */
import { Type, type Static } from 'typebox';
import type { MonitorState } from '../../monitors/kinds.js';
import { postJson } from '../http.js';
import { describeItem, truncate } from '../message.js';
import type { Notification, NotificationItem } from '../notification.js';
import type { NotificationProvider, SendResult } from '../provider.js';

const PagerDutyConfig = Type.Object(
  { routing_key: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9]+$', description: 'The integration (routing) key of an Events API v2 integration (write-only)' }) },
  { additionalProperties: false },
);
export type PagerDutyConfig = Static<typeof PagerDutyConfig>;

/**
 * What each state asks of PagerDuty. Pausing a monitor or a maintenance window resolves its
 * Vigie incident, so it resolves the PagerDuty alert too.
 */
const ACTIONS: Record<MonitorState, { action: 'trigger'; severity: 'critical' | 'warning' } | { action: 'resolve' }> = {
  down: { action: 'trigger', severity: 'critical' },
  warning: { action: 'trigger', severity: 'warning' },
  up: { action: 'resolve' },
  paused: { action: 'resolve' },
  pending: { action: 'resolve' },
  maintenance: { action: 'resolve' },
};

const SUMMARY_MAX_CHARS = 1024;

/**
 * `fallbackDedupKey` serves items without an incident (a channel test): the idempotency key, so
 * a retried test still makes one alert.
 */
export function pagerdutyEvent(routingKey: string, item: NotificationItem, notification: Notification, fallbackDedupKey: string) {
  const dedupKey = item.incidentId ?? fallbackDedupKey;
  const todo = ACTIONS[item.toState];
  if (todo.action === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const { headline } = describeItem(item, notification.tenant.timeZone, notification.kind);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: 'Vigie',
    payload: {
      summary: truncate(`[${notification.tenant.name}] ${headline}${item.reason ? `: ${item.reason}` : ''}`, SUMMARY_MAX_CHARS),
      source: item.monitorName,
      severity: todo.severity,
      timestamp: new Date(item.at).toISOString(),
      component: item.monitorKind,
      group: notification.tenant.name,
      custom_details: {
        monitor_id: item.monitorId,
        monitor_kind: item.monitorKind,
        from_state: item.fromState,
        to_state: item.toState,
        reason: item.reason,
        notification_kind: notification.kind,
      },
    },
  };
}

export const pagerdutyProvider: NotificationProvider<PagerDutyConfig> = {
  kind: 'pagerduty',
  configSchema: PagerDutyConfig,
  secretFields: ['routing_key'],

  async send(config, notification, { idempotencyKey, settings }) {
    const { items } = notification;
    let last: SendResult = { ok: false, retryable: false, detail: 'no event sent' };
    for (const [index, item] of items.entries()) {
      const event = pagerdutyEvent(config.routing_key, item, notification, idempotencyKey);
      const answer = await postJson({ url: settings.pagerdutyEventsUrl, body: JSON.stringify(event), timeoutMs: settings.timeoutMs });
      last = items.length === 1 ? answer : { ...answer, detail: `event ${index + 1} of ${items.length} (${event.event_action}): ${answer.detail}` };
      // A group stops at its first failure; the retry sends it again from the start.
      if (!answer.ok) return last;
    }
    return last;
  },
};
