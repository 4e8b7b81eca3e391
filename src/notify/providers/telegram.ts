/**
 * Telegram Bot API `sendMessage` (seed 003). The bot token is the credential and sits in the
 * URL path, so it is a secret, its shape is checked (it must not be able to change the path),
 * and no detail ever shows the URL. Telegram's HTML mode knows only a few tags (<b>, <i>,
 * <code>…), not the e-mail body's tables, hence a rendering of its own.
 */
import { Type, type Static } from 'typebox';
import { postJson } from '../http.js';
import { describeItem, escapeHtml, footer, introduction, renderSubject } from '../message.js';
import type { Notification } from '../notification.js';
import type { NotificationProvider } from '../provider.js';

const TelegramConfig = Type.Object(
  {
    bot_token: Type.String({ pattern: '^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$', description: 'The bot token from @BotFather (write-only)' }),
    chat_id: Type.Union([Type.Integer(), Type.String({ pattern: '^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,64})$' })], {
      description: 'A chat id (negative for groups) or @channelusername',
    }),
  },
  { additionalProperties: false },
);
export type TelegramConfig = Static<typeof TelegramConfig>;

/** Telegram refuses longer messages (counted after entities are parsed; this counts before, to be safe). */
const MESSAGE_MAX_CHARS = 4096;

/** Whole items only, so that truncation never cuts a tag in half. */
export function telegramText(notification: Notification): string {
  const head = [`<b>${escapeHtml(renderSubject(notification))}</b>`];
  const intro = introduction(notification);
  if (intro) head.push(escapeHtml(intro));
  const tail = `<i>${escapeHtml(footer(notification))}</i>`;
  const blocks = [head.join('\n')];
  let length = blocks[0]!.length + tail.length + 2;
  let shown = 0;
  for (const item of notification.items) {
    const { headline, fields } = describeItem(item, notification.tenant.timeZone, notification.kind);
    const block = [`<b>${escapeHtml(headline)}</b>`, ...fields.map(({ label, value }) => `${escapeHtml(label)}: ${escapeHtml(value)}`)].join('\n');
    // Room kept for the "…and N more" line.
    if (length + block.length + 2 > MESSAGE_MAX_CHARS - 40) break;
    blocks.push(block);
    length += block.length + 2;
    shown++;
  }
  const hidden = notification.items.length - shown;
  if (hidden > 0) blocks.push(`…and ${hidden} more monitor${hidden === 1 ? '' : 's'}.`);
  blocks.push(tail);
  return blocks.join('\n\n');
}

export const telegramProvider: NotificationProvider<TelegramConfig> = {
  kind: 'telegram',
  configSchema: TelegramConfig,
  secretFields: ['bot_token'],

  async send(config, notification, { settings }) {
    const base = settings.telegramApiBaseUrl.replace(/\/+$/, '');
    const body = JSON.stringify({ chat_id: config.chat_id, text: telegramText(notification), parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    return postJson({ url: `${base}/bot${config.bot_token}/sendMessage`, body, timeoutMs: settings.timeoutMs });
  },
};
