/** The SMTP listener for e-mail pings as a background loop of the heartbeat kind: none unless SMTPD_PORT is set. */
import { createEmailListener } from '../../heartbeats/email-listener.js';
import { createEmailRecipients } from '../../heartbeats/email-recipients.js';
import type { HeartbeatsService } from '../../heartbeats/heartbeats.service.js';
import type { PingGate } from '../../heartbeats/ping-gate.js';
import type { PingWriter } from '../../heartbeats/pings.js';
import type { KindRuntime } from '../contract.js';
import type { BackgroundLoop } from '../loops.js';

export function emailPingLoops({ db, config, logger }: KindRuntime, own: { heartbeats: HeartbeatsService; pings: PingWriter; pingGate: PingGate }): BackgroundLoop[] {
  if (config.smtpdPort === undefined) return [];
  const listener = createEmailListener({
    recipients: createEmailRecipients({ db, heartbeats: own.heartbeats }),
    pings: own.pings,
    gate: own.pingGate,
    logger,
    options: {
      host: config.smtpdHost,
      port: config.smtpdPort,
      domain: config.pingEmailDomain,
      maxMessageBytes: config.smtpdMaxMessageBytes,
      bodyLimitBytes: config.pingBodyLimitBytes,
      rateLimitPerMinute: config.pingRateLimitPerMinute,
    },
  });
  return [{ name: 'e-mail ping listener', start: () => listener.start(), stop: () => listener.stop() }];
}
