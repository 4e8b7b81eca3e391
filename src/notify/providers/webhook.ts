/**
 * Generic webhook: a POST of a documented JSON body (WebhookBody below, version 1: fields are
 * only ever added). With a `secret`, the header `X-Vigie-Signature: sha256=<hex>` carries the
 * HMAC-SHA256 of the exact bytes sent, so a receiver verifies the raw body before parsing it.
 * `X-Vigie-Idempotency-Key` is the same for every retry of one delivery. Custom headers often
 * carry credentials (Authorization), so they are write-only like the secret.
 */
import { createHmac } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { MONITOR_KINDS, MONITOR_STATES } from '../../monitors/kinds.js';
import { HttpUrl, postJson } from '../http.js';
import { renderSubject, renderText } from '../message.js';
import { NOTIFICATION_KINDS, type Notification } from '../notification.js';
import type { NotificationProvider } from '../provider.js';

/** RFC 9110 token characters: anything else is not a header name. */
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$";

const WebhookConfig = Type.Object(
  {
    url: HttpUrl('Where to POST'),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Key of the X-Vigie-Signature HMAC (write-only)' })),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String({ maxLength: 4000, pattern: '^[^\\r\\n]*$' }), {
        additionalProperties: false,
        maxProperties: 20,
        description: "Extra request headers, e.g. Authorization (write-only). Content-Type, User-Agent and X-Vigie-* are always Vigie's.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type WebhookConfig = Static<typeof WebhookConfig>;

/** The body every webhook receives; published in the OpenAPI description. */
export const WebhookBody = Type.Object(
  {
    version: Type.Literal(1, { description: 'Format version; a change that breaks receivers gets a new number' }),
    kind: Type.Enum([...NOTIFICATION_KINDS], { description: 'alert: states changed; reminder: incidents still open; test: the channel test' }),
    tenant: Type.Object({ name: Type.String(), time_zone: Type.String({ description: 'IANA zone used in title and text' }) }),
    title: Type.String({ description: 'One-line summary, as in the e-mail subject' }),
    text: Type.String({ description: 'Plain-text message, as in the e-mail body' }),
    items: Type.Array(
      Type.Object({
        monitor_id: Type.String(),
        monitor_name: Type.String(),
        monitor_kind: Type.Enum([...MONITOR_KINDS]),
        from_state: Type.Enum([...MONITOR_STATES]),
        to_state: Type.Enum([...MONITOR_STATES]),
        reason: Type.Union([Type.String(), Type.Null()]),
        at: Type.String({ format: 'date-time', description: 'When the state changed, ISO 8601 in UTC' }),
        incident_id: Type.Union([Type.String(), Type.Null()]),
        down_for_ms: Type.Union([Type.Integer(), Type.Null()], { description: 'On recovery, how long the incident lasted' }),
      }),
      { minItems: 1, description: 'One per monitor; several when grouping is on' },
    ),
  },
  { description: 'POSTed as application/json to a webhook channel. Headers: X-Vigie-Idempotency-Key, and X-Vigie-Signature: sha256=<hex HMAC-SHA256 of the raw body> when the channel has a secret.' },
);
export type WebhookBody = Static<typeof WebhookBody>;

export function webhookBody(notification: Notification): WebhookBody {
  return {
    version: 1,
    kind: notification.kind,
    tenant: { name: notification.tenant.name, time_zone: notification.tenant.timeZone },
    title: renderSubject(notification),
    text: renderText(notification),
    items: notification.items.map((item) => ({
      monitor_id: item.monitorId,
      monitor_name: item.monitorName,
      monitor_kind: item.monitorKind,
      from_state: item.fromState,
      to_state: item.toState,
      reason: item.reason,
      at: new Date(item.at).toISOString(),
      incident_id: item.incidentId,
      down_for_ms: item.downForMs,
    })),
  };
}

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export const webhookProvider: NotificationProvider<WebhookConfig> = {
  kind: 'webhook',
  configSchema: WebhookConfig,
  secretFields: ['secret', 'headers'],

  async send(config, notification, { idempotencyKey, settings }) {
    const body = JSON.stringify(webhookBody(notification));
    // X-Vigie-* names are Vigie's: a custom one could fake a signature the channel never made.
    const custom = Object.entries(config.headers ?? {}).filter(([name]) => !name.toLowerCase().startsWith('x-vigie-'));
    const headers: Record<string, string> = { ...Object.fromEntries(custom), 'x-vigie-idempotency-key': idempotencyKey };
    if (config.secret) headers['x-vigie-signature'] = webhookSignature(config.secret, body);
    return postJson({ url: config.url, body, headers, timeoutMs: settings.timeoutMs });
  },
};
