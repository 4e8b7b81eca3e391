/**
 * E-mail over SMTP with nodemailer. The relay (host, port, TLS, credentials, From) is the
 * server's, from the environment; a channel only names its recipients, so it holds no secret.
 * The Message-ID is derived from the idempotency key: a retry after a lost SMTP reply carries
 * the same Message-ID, which mail stores use to drop the duplicate.
 */
import { createHash } from 'node:crypto';
import { createTransport, type NodemailerError } from 'nodemailer';
import { Type, type Static } from 'typebox';
import { renderMessage } from '../message.js';
import type { NotificationProvider, SendResult, SmtpSettings } from '../provider.js';

const EmailConfig = Type.Object(
  {
    to: Type.Array(Type.String({ format: 'email', maxLength: 320 }), { minItems: 1, maxItems: 50, description: 'Recipient addresses' }),
  },
  { additionalProperties: false },
);
export type EmailConfig = Static<typeof EmailConfig>;

/** `<hash.vigie@domain>`: a hash, because the key's characters are not all allowed in a Message-ID. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'vigie.invalid';
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `<${hash}.vigie@${domain}>`;
}

/**
 * A rejection the server says is permanent (5xx, e.g. unknown recipient) will be rejected again;
 * anything else (4xx, refused or dropped connection, timeout) may pass later.
 */
function failure(error: unknown, smtp: SmtpSettings): SendResult {
  const { permanent, responseCode, response, code, message } = (error ?? {}) as NodemailerError;
  const where = `${smtp.host}:${smtp.port}`;
  const detail = response ? `SMTP server ${where} answered: ${response}` : `SMTP ${code ?? 'error'} with ${where}: ${message ?? 'unknown error'}`;
  return { ok: false, retryable: permanent !== true, ...(responseCode !== undefined && { status: responseCode }), detail };
}

export const emailProvider: NotificationProvider<EmailConfig> = {
  kind: 'email',
  configSchema: EmailConfig,
  secretFields: [],

  async send(config, notification, { idempotencyKey, settings }) {
    const smtp = settings.smtp;
    if (!smtp) return { ok: false, retryable: false, detail: 'e-mail is not configured on this server (no SMTP relay set)' };
    const transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.user !== null && { auth: { user: smtp.user, pass: smtp.password ?? '' } }),
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    });
    const { subject, text, html } = renderMessage(notification);
    try {
      const info = await transport.sendMail({
        from: smtp.from,
        to: config.to,
        subject,
        text,
        html,
        messageId: messageIdFor(idempotencyKey, smtp.from),
        headers: { 'X-Vigie-Idempotency-Key': idempotencyKey },
      });
      const rejected = (info.rejected ?? []).map(String);
      const note = rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : '';
      return { ok: true, retryable: false, detail: `accepted by ${smtp.host}:${smtp.port}: ${info.response}${note}` };
    } catch (error) {
      return failure(error, smtp);
    } finally {
      transport.close();
    }
  },
};
