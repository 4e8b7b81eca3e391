/**
 * Slack incoming webhook: one POST of Block Kit blocks, with `text` as the fallback Slack shows
 * in push notifications. The webhook URL is the credential (anyone holding it can post), so it
 * is a secret. Slack's limits shape the message: a header of 150 characters, sections of 3,000,
 * 50 blocks; a large group lists its first monitors and counts the rest.
 */
import { Type, type Static } from 'typebox';
import { HttpUrl, postJson } from '../http.js';
import { describeItem, footer, introduction, renderSubject, truncate } from '../message.js';
import type { Notification } from '../notification.js';
import type { NotificationProvider } from '../provider.js';

const SlackConfig = Type.Object({ url: HttpUrl('The incoming webhook URL (write-only)') }, { additionalProperties: false });
export type SlackConfig = Static<typeof SlackConfig>;

const HEADER_MAX_CHARS = 150;
const SECTION_MAX_CHARS = 3000;
/** Leaves room under Slack's 50 blocks for the header, introduction, "more" line and footer. */
const MAX_ITEM_BLOCKS = 40;

/** Slack's mrkdwn reads &, < and > as markup (links, mentions): these three must be escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const mrkdwnSection = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_MAX_CHARS) } });

export function slackPayload(notification: Notification) {
  const subject = renderSubject(notification);
  const blocks: object[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(subject, HEADER_MAX_CHARS), emoji: false } }];
  const intro = introduction(notification);
  if (intro) blocks.push(mrkdwnSection(escapeMrkdwn(intro)));
  for (const item of notification.items.slice(0, MAX_ITEM_BLOCKS)) {
    const { headline, fields } = describeItem(item, notification.tenant.timeZone, notification.kind);
    const lines = fields.map(({ label, value }) => `*${label}:* ${escapeMrkdwn(value)}`);
    blocks.push(mrkdwnSection([`*${escapeMrkdwn(headline)}*`, ...lines].join('\n')));
  }
  const hidden = notification.items.length - MAX_ITEM_BLOCKS;
  if (hidden > 0) blocks.push(mrkdwnSection(`…and ${hidden} more monitor${hidden === 1 ? '' : 's'}.`));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(footer(notification)) }] });
  return { text: escapeMrkdwn(subject), blocks };
}

export const slackProvider: NotificationProvider<SlackConfig> = {
  kind: 'slack',
  configSchema: SlackConfig,
  secretFields: ['url'],

  async send(config, notification, { settings }) {
    return postJson({ url: config.url, body: JSON.stringify(slackPayload(notification)), timeoutMs: settings.timeoutMs });
  },
};
