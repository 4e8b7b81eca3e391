/**
 * Pings by e-mail, as Healthchecks' `smtpd` command receives them: an SMTP listener (off unless
 * SMTPD_PORT is set) that takes mail for `{ping_uuid}@{PING_EMAIL_DOMAIN}` and
 * `{ping_key}+{slug}@{PING_EMAIL_DOMAIN}`. Each accepted message is one ping per recipient through
 * the ping writer (method `email`, the raw message as body, the client's address, "Email from
 * <sender>" as user agent), a success unless the check's keyword filter says start, fail or
 * ignored (email-filter.ts).
 *
 * Unlike Healthchecks, which refuses only malformed mailboxes at RCPT and drops mail for unknown
 * checks after taking it, a recipient that names no check is refused at RCPT (550), so a sender's
 * mail server reports the mistake to it. A message larger than SMTPD_MAX_MESSAGE_BYTES is refused
 * (552) and nothing is recorded; the stored body is cut to PING_BODY_LIMIT_BYTES as for HTTP
 * pings. No AUTH and no STARTTLS: the listener is meant for 127.0.0.1 or behind a mail relay.
 *
 * E-mail pings go through the same gate as HTTP pings (ping-gate.ts): they count towards the
 * check's PING_RATE_LIMIT_PER_MINUTE and in /metrics. A check over its limit is refused with a
 * temporary error, so the sending server queues the mail and retries it later (where an HTTP
 * client gets 429): 450 at RCPT, or 451 for the whole message at the end of DATA if a recipient
 * went over the limit in between (one reply covers every recipient, so none is recorded).
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../logger.js';
import { emailAction, filteringOn, type MessageText } from './email-filter.js';
import type { EmailRecipients, EmailTarget } from './email-recipients.js';
import { keptBody } from './ping-body.js';
import type { PingGate } from './ping-gate.js';
import { EMAIL_METHOD, type PingWriter } from './pings.js';

export interface EmailListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  domain: string;
  maxMessageBytes: number;
  /** How much of the message is stored as the ping's body (PING_BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /** PING_RATE_LIMIT_PER_MINUTE, counted with the check's HTTP pings. */
  rateLimitPerMinute: number;
}

/** Bounds on what one client may hold: connections at once, recipients per message, idle time. */
const MAX_CLIENTS = 100;
const MAX_RECIPIENTS = 50;
const SOCKET_TIMEOUT_MS = 60_000;
/** On stop, connections still open after this are cut (the server's own shutdown waits 30 s at most). */
const CLOSE_TIMEOUT_MS = 5_000;

/** An SMTP reply with its code, as smtp-server sends an error given to a callback. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const rateLimited = (code: 450 | 451, seconds: number) => smtpError(code, `4.7.1 Rate limit exceeded for this check, try again in ${seconds} seconds`);

/** Reads the message, keeping at most `max` bytes; smtp-server flags a larger one. */
function readMessage(stream: SMTPServerDataStream, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    stream.on('data', (chunk: Buffer) => {
      if (kept >= max) return;
      chunks.push(chunk);
      kept += chunk.length;
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function messageText(raw: Buffer): Promise<MessageText> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  return { subject: parsed.subject ?? '', text: parsed.text ?? '', html: typeof parsed.html === 'string' ? parsed.html : '' };
}

export function createEmailListener({ recipients, pings, gate, logger, options }: { recipients: EmailRecipients; pings: PingWriter; gate: PingGate; logger: Logger; options: EmailListenerOptions }) {
  /** Messages being recorded: stop waits for them before the ping writer flushes. */
  const inFlight = new Set<Promise<unknown>>();
  const checkPings = gate.checkPings(options.rateLimitPerMinute);

  async function deliver(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const targets: EmailTarget[] = [];
    // Resolved again: a check may have gone between RCPT and the end of DATA.
    for (const to of session.envelope.rcptTo) {
      const target = await recipients.resolve(to.address, options.domain);
      if (target) targets.push(target);
    }
    // All or nothing (one reply for every recipient): checked first, then counted, with no await between.
    const blocked = Math.max(0, ...targets.map((target) => checkPings.exceeded(target.pingUuid)));
    if (blocked) {
      gate.refused('check_rate');
      throw rateLimited(451, blocked);
    }
    for (const target of targets) checkPings.hit(target.pingUuid);
    // Parsed only when a filter needs the subject or body, and once for every recipient.
    const text = targets.some(filteringOn) ? await messageText(raw) : null;
    const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
    for (const target of targets) {
      const action = text === null ? 'success' : emailAction(target, text);
      const outcome = await pings.record({
        pingUuid: target.pingUuid,
        kind: action,
        exitStatus: null,
        rid: null,
        method: EMAIL_METHOD,
        remoteAddr: session.remoteAddress || null,
        userAgent: `Email from ${from}`.slice(0, 200),
        body: raw.length > 0 ? keptBody(raw, options.bodyLimitBytes) : null,
        bodySize: raw.length,
      });
      if (outcome !== 'not_found') gate.received(outcome);
    }
  }

  const server = new SMTPServer({
    name: options.domain,
    banner: 'Vigie e-mail pings',
    size: options.maxMessageBytes,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    maxClients: MAX_CLIENTS,
    maxRecipients: MAX_RECIPIENTS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: CLOSE_TIMEOUT_MS,
    logger: false,
    onRcptTo(address, _session, callback) {
      recipients.resolve(address.address, options.domain).then(
        (target) => {
          if (!target) return callback(smtpError(550, '5.1.1 Recipient rejected: no such check'));
          // Not counted yet: the ping is counted when the message is taken.
          const blocked = checkPings.exceeded(target.pingUuid);
          if (blocked) gate.refused('check_rate');
          callback(blocked ? rateLimited(450, blocked) : null);
        },
        (error: unknown) => {
          logger.warn({ err: error }, 'e-mail ping: looking up a recipient failed');
          callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      const work = readMessage(stream, options.maxMessageBytes)
        .then(async (raw) => {
          if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 Message exceeds the fixed maximum message size (${options.maxMessageBytes} bytes)`));
          await deliver(raw, session);
          callback(null, 'OK');
        })
        .catch((error: unknown) => {
          if (error instanceof Error && 'responseCode' in error) return callback(error);
          logger.warn({ err: error }, 'e-mail ping: recording failed');
          callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
        });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
  });
  server.on('error', (error) => logger.warn({ err: error }, 'e-mail ping listener error'));

  return {
    async start(): Promise<void> {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      logger.info({ smtp: this.address(), domain: options.domain }, 'listening for e-mail pings');
    },
    /** Where it listens, e.g. `127.0.0.1:8001`. */
    address(): string {
      const info = server.server.address() as AddressInfo;
      return `${info.address}:${info.port}`;
    },
    /** Stops taking mail, then waits for the messages being recorded. */
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(inFlight);
    },
  };
}

export type EmailListener = ReturnType<typeof createEmailListener>;
