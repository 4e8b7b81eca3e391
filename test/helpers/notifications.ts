/**
 * A notification as the router builds it, for tests of message rendering and providers: one
 * monitor going down at AT (15:04:05 in Paris, winter time), for the tenant "acme" in Europe/Paris.
 */
import type { Notification, NotificationItem } from '../../src/notify/notification.js';

export const AT = Date.UTC(2026, 2, 14, 14, 4, 5);
export const TENANT = Object.freeze({ name: 'acme', timeZone: 'Europe/Paris' });

export function item(overrides: Partial<NotificationItem> = {}): NotificationItem {
  return {
    monitorId: '7b0c4a52-3f0e-4a57-9d4e-1c3a8e2f6b01',
    monitorName: 'api.example.com',
    monitorKind: 'http',
    fromState: 'up',
    toState: 'down',
    reason: 'connection refused by api.example.com',
    at: AT,
    incidentId: '5d6e7f80-aaaa-4bbb-8ccc-123456789012',
    downForMs: null,
    ...overrides,
  };
}

export function notification(items: NotificationItem[], overrides: Partial<Notification> = {}): Notification {
  return { kind: 'alert', tenant: TENANT, items: items as unknown as Notification['items'], ...overrides };
}
