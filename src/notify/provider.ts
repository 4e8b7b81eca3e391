/**
 * The one interface every notification provider implements (one file each under providers/,
 * one registry in index.ts). A provider validates a channel's `config` with its own schema,
 * names which config keys are secrets, and sends a notification, reporting whether a failure is
 * worth retrying: the delivery loop decides when, the provider only says whether.
 */
import type { TSchema } from 'typebox';
import type { Notification } from './notification.js';

/** Channel kind names, defined once and reused by the database, the API schema and the dashboard. */
export const CHANNEL_KINDS = ['email', 'slack', 'telegram', 'pagerduty', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** For values read from storage or a request before they reach the registry. */
export function isChannelKind(value: string): value is ChannelKind {
  return (CHANNEL_KINDS as readonly string[]).includes(value);
}

/** Server-level SMTP settings, from the environment: one relay for every tenant. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); false means STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  password: string | null;
  /** The From header, e.g. "Vigie <vigie@example.com>". */
  from: string;
}

/** Server-level settings providers need beyond a channel's config; tests point the URLs at local servers. */
export interface ProviderSettings {
  /** Null when the server has no SMTP relay: e-mail channels then fail, not retryable. */
  smtp: SmtpSettings | null;
  telegramApiBaseUrl: string;
  pagerdutyEventsUrl: string;
  /** Limit of one send (connect, request and response), in ms. */
  timeoutMs: number;
}

export const DEFAULT_PROVIDER_SETTINGS: ProviderSettings = Object.freeze({
  smtp: null,
  telegramApiBaseUrl: 'https://api.telegram.org',
  pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
  timeoutMs: 10_000,
});

export interface SendContext {
  /**
   * Flip id + channel id (built by idempotencyKey below): the same for every retry of one
   * delivery, so a receiver that honours it never shows a message twice.
   */
  idempotencyKey: string;
  settings: ProviderSettings;
}

export interface SendResult {
  ok: boolean;
  /** True for failures that may pass later (5xx, 429, timeouts, refused connections). */
  retryable: boolean;
  /** The remote status: HTTP status, or SMTP reply code for e-mail. */
  status?: number;
  /** What happened, for the attempt log and the test button. Never holds a secret. */
  detail: string;
}

export interface NotificationProvider<Config extends object = Record<string, unknown>> {
  readonly kind: ChannelKind;
  /** Validates a channel's `config` object; its static type is Config. */
  readonly configSchema: TSchema;
  /** Config keys that are write-only: accepted on create/update, never returned by the API. */
  readonly secretFields: readonly (keyof Config & string)[];
  send(config: Config, notification: Notification, context: SendContext): Promise<SendResult>;
}

export function idempotencyKey(flipId: string, channelId: string): string {
  return `${flipId}:${channelId}`;
}

/** A channel's config as the API may show it: secrets removed, and which of them are set. */
export interface RedactedConfig {
  config: Record<string, unknown>;
  /** Names of secret fields that hold a value, so a client can show "set" without the value. */
  secretsSet: string[];
}

/**
 * Removes the provider's secret fields. They are dropped rather than masked: a masked value
 * sent back in an update would otherwise overwrite the real secret with the mask.
 */
export function redactConfig(provider: { readonly secretFields: readonly string[] }, config: Record<string, unknown>): RedactedConfig {
  const secrets = new Set<string>(provider.secretFields);
  const visible: Record<string, unknown> = {};
  const secretsSet: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!secrets.has(key)) visible[key] = value;
    else if (value !== undefined && value !== null && value !== '') secretsSet.push(key);
  }
  return { config: visible, secretsSet };
}
