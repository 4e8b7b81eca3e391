/**
 * The message model every provider receives, independent of any channel: what changed, for
 * whom, and how to show the time. The router builds it from flips; providers only render and
 * send it. A notification lists one or more items because grouping sends several flips of one
 * tenant in a single message.
 */
import type { MonitorKind, MonitorState } from '../monitors/kinds.js';

/** `reminder`: an incident still open after the repeat interval; `test`: a channel's test button. */
export const NOTIFICATION_KINDS = ['alert', 'reminder', 'test'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationItem {
  monitorId: string;
  monitorName: string;
  monitorKind: MonitorKind;
  fromState: MonitorState;
  toState: MonitorState;
  /** The check's message that caused the change (e.g. "connection refused by api.example.com"). */
  reason: string | null;
  /** When the state changed, epoch ms. */
  at: number;
  /** The incident this change opened, escalated or resolved; null when there is none (tests). */
  incidentId: string | null;
  /** On a recovery, how long the incident lasted, in ms; null otherwise. */
  downForMs: number | null;
}

export interface NotificationTenant {
  name: string;
  /** IANA time zone (e.g. Europe/Paris): every time in the message is shown in it. */
  timeZone: string;
}

export interface Notification {
  kind: NotificationKind;
  tenant: NotificationTenant;
  /** Never empty: the type says so, so no provider has to decide what an empty message means. */
  items: readonly [NotificationItem, ...NotificationItem[]];
}

/**
 * The message a channel's test sends: one made-up monitor going down, so the receiver sees what
 * a real alert looks like. No incident id: PagerDuty falls back to the idempotency key.
 */
export function testNotification(tenant: NotificationTenant, at: number): Notification {
  return {
    kind: 'test',
    tenant,
    items: [
      {
        monitorId: '00000000-0000-0000-0000-000000000000',
        monitorName: 'Vigie test monitor',
        monitorKind: 'http',
        fromState: 'up',
        toState: 'down',
        reason: 'This is a test message: the channel works.',
        at,
        incidentId: null,
        downForMs: null,
      },
    ],
  };
}
