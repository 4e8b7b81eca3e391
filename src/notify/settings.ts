/** The providers' server-wide settings, from the parsed configuration. */
import type { Config } from '../config.js';
import type { ProviderSettings } from './provider.js';

export function providerSettingsFrom(config: Config): ProviderSettings {
  return {
    smtp: config.smtpHost
      ? {
          host: config.smtpHost,
          port: config.smtpPort,
          secure: config.smtpSecure,
          user: config.smtpUser ?? null,
          password: config.smtpPassword ?? null,
          from: config.smtpFrom,
        }
      : null,
    telegramApiBaseUrl: config.telegramApiBaseUrl,
    pagerdutyEventsUrl: config.pagerdutyEventsUrl,
    timeoutMs: config.notifyTimeoutSeconds * 1000,
  };
}
