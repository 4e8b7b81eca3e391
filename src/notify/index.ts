/**
 * The notification provider registry: one entry per channel kind, and the only place that maps
 * a kind to its code. Add a kind to CHANNEL_KINDS (provider.ts), then its file under providers/
 * and its line here; the Record type refuses a kind without a provider.
 */
import type { ChannelKind, NotificationProvider } from './provider.js';
import { emailProvider } from './providers/email.js';
import { pagerdutyProvider } from './providers/pagerduty.js';
import { slackProvider } from './providers/slack.js';
import { telegramProvider } from './providers/telegram.js';
import { webhookProvider } from './providers/webhook.js';

// `any`: each provider's config type differs; callers validate a config with the provider's own
// configSchema before handing it to that provider's send.
export const PROVIDERS: Readonly<Record<ChannelKind, NotificationProvider<any>>> = Object.freeze({
  email: emailProvider,
  slack: slackProvider,
  telegram: telegramProvider,
  pagerduty: pagerdutyProvider,
  webhook: webhookProvider,
});

export function providerFor(kind: ChannelKind): NotificationProvider<any> {
  return PROVIDERS[kind];
}
