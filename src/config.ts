/**
 * The environment, parsed once at start-up into a frozen object.
 *
 * Every variable is declared in ENV_VARIABLES with its default and its parser; `.env.example`
 * documents the same list (a test keeps the two in step). A bad value throws a ConfigError whose
 * one-line message names the variable and what is wrong, so `vigie serve` can print it and exit.
 */
import { parseDatabaseUrl, type DatabaseTarget } from './db/database-url.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseTarget;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  /** Undefined when SECRET_KEY is unset: `resolveSecretKey` then keeps one in the data directory. */
  readonly secretKey: string | undefined;
  readonly logLevel: LogLevel;
  readonly jwtExpiresMinutes: number;
  readonly bodyLimitBytes: number;
  readonly pingBodyLimitBytes: number;
  readonly loginRateLimitPerMinute: number;
  /** Pings one check may receive per minute (per web process); 0: no limit. */
  readonly pingRateLimitPerMinute: number;
  /** Pings naming no check (404) or malformed (400) one client address may send per minute before its further misses get 429 (pings to existing checks always pass); 0: no limit. */
  readonly pingMissRateLimitPerMinute: number;
  readonly trustProxy: boolean;
  readonly checkConcurrency: number;
  /** Check results (raw), their hour rollups, their day rollups (uptime's long windows). */
  readonly resultsRetentionDays: number;
  readonly hourRollupsRetentionDays: number;
  readonly dayRollupsRetentionDays: number;
  /** Agent metrics (series store): raw samples and bool/string changes, minute rollups, hour rollups. */
  readonly metricsRawRetentionDays: number;
  readonly metricsMinuteRollupsRetentionDays: number;
  readonly metricsHourRollupsRetentionDays: number;
  readonly smtpHost: string | undefined;
  readonly smtpPort: number;
  readonly smtpSecure: boolean;
  readonly smtpUser: string | undefined;
  readonly smtpPassword: string | undefined;
  readonly smtpFrom: string;
  readonly telegramApiBaseUrl: string;
  readonly pagerdutyEventsUrl: string;
  readonly notifyTimeoutSeconds: number;
  /** Tenant (id or exact name) that owns Vigie's self checks; undefined: the oldest superuser's tenant. */
  readonly selfMonitoringTenant: string | undefined;
  /** How often every threshold rule is evaluated (seed 000's evaluation job); `last` rules also react to each ingest. */
  readonly metricRulesEvaluationSeconds: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`; undefined: /metrics is public. */
  readonly metricsToken: string | undefined;
  /** Agent ingestion (POST /api/v1/ingest/metrics): metrics per request, body size, how long an X-Ingest-Id is remembered. */
  readonly ingestMaxMetrics: number;
  readonly ingestBodyLimitBytes: number;
  /** Worker threads that parse and check ingest bodies; 0: in the main thread. */
  readonly ingestParseThreads: number;
  readonly metricsIngestIdTtlHours: number;
  /** How deeply a JSON request body may nest (every JSON route, agent ingestion included); deeper: 400. */
  readonly bodyMaxDepth: number;
  /** Time to receive a whole request (headers and body), to receive its headers, and to keep an idle connection (between requests, and while nothing moves on it). */
  readonly requestTimeoutSeconds: number;
  readonly headersTimeoutSeconds: number;
  readonly keepAliveTimeoutSeconds: number;
  readonly connectionTimeoutSeconds: number;
  /** The base of every absolute link Vigie hands out (ping URLs, badges), without a trailing slash. */
  readonly publicUrl: string;
  /** Backups (seed 001): the agents' deposit zone and the validated zone; undefined: under DATA_DIR (kinds/backup/zones.ts). */
  readonly backupDepositDir: string | undefined;
  readonly backupValidatedDir: string | undefined;
  /** How often the deposit zone is scanned, and how long a report and its files must stay unchanged before a run is taken. */
  readonly backupScanSeconds: number;
  readonly backupSettleSeconds: number;
  /** Rejected deposits stay in the quarantine this many days. */
  readonly backupQuarantineRetentionDays: number;
  /** The SMTP listener for e-mail pings: off when undefined; 0 picks a free port (tests). */
  readonly smtpdPort: number | undefined;
  readonly smtpdHost: string;
  /** Checks are pinged by mail to {ping_uuid}@ or {ping_key}+{slug}@ this domain. */
  readonly pingEmailDomain: string;
  /** Larger messages are refused (552). */
  readonly smtpdMaxMessageBytes: number;
  /** The WebSocket API (GET /api/v1/ws): ping interval, idle timeout, clients per process, send buffer per socket, coalescing. */
  readonly wsPingIntervalSeconds: number;
  readonly wsIdleTimeoutSeconds: number;
  readonly wsMaxClients: number;
  readonly wsSendBufferBytes: number;
  readonly wsCoalesceMs: number;
  /** A socket's events within this window leave in one write (realtime/frame-batcher.ts); 0: each at once. */
  readonly wsWriteWindowMs: number;
  /** Redis pub/sub channels of the realtime hub are named `<prefix>:<tenant>:<topic>`. */
  readonly realtimeChannelPrefix: string;
  /** Backup runs received longer ago are deleted (never a job's current copies nor its newest run). */
  readonly backupRunRetentionDays: number;
  /** How long a scanner's claim on a backup run holds unless renewed (kinds/backup/claim-lease.ts). */
  readonly backupClaimLeaseSeconds: number;
  /** Backups' HTTP deposit (PUT …/files/{path}): the largest file accepted, in bytes; larger: 413. */
  readonly backupUploadMaxBytes: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid environment variable ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Parser<T> = (raw: string) => T;

function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`expected an integer from ${min} to ${max}, got ${value}`);
    return value;
  };
}

function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(choices as readonly string[]).includes(value)) {
      throw new Error(`expected one of ${choices.join(', ')}, got "${raw}"`);
    }
    return value as T;
  };
}

const boolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(value)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};

const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

const metricsToken: Parser<string> = (raw) => {
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new Error('must be printable ASCII without spaces (it is sent in an Authorization header)');
  if (raw.length < 16) throw new Error(`must be at least 16 characters long (got ${raw.length}); generate one with: openssl rand -hex 32`);
  return raw;
};

const secretKey: Parser<string> = (raw) => {
  if (raw.length < 32) throw new Error(`must be at least 32 characters long (got ${raw.length}); generate one with: openssl rand -hex 32`);
  return raw;
};

const redisUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected a URL such as redis://127.0.0.1:6379, got "${raw}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`expected a redis:// or rediss:// URL, got scheme "${url.protocol}"`);
  }
  return raw;
};

const databaseUrl: Parser<DatabaseTarget> = (raw) => parseDatabaseUrl(raw);

const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected an http(s) URL, got scheme "${url.protocol}"`);
  return raw.trim().replace(/\/+$/, '');
};

/** Like httpUrl, but only a base: no query, fragment or credentials, which links could not carry. */
const publicUrl: Parser<string> = (raw) => {
  const base = httpUrl(raw);
  const url = new URL(base);
  if (url.search || url.hash || url.username || url.password) throw new Error(`expected a base URL without query, fragment or credentials, such as https://vigie.example.com, got "${raw}"`);
  return base;
};

/**
 * PUBLIC_URL's default: where this server listens. A wildcard address (0.0.0.0, ::) is not an
 * address a client can use, so links name the loopback address instead; an IPv6 host is bracketed.
 */
export function defaultPublicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') && !shown.startsWith('[') ? `[${shown}]` : shown}:${port}`;
}

const emailDomain: Parser<string> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(value)) throw new Error(`expected a domain name such as hc.example.com, got "${raw}"`);
  return value;
};

interface Variable<T> {
  readonly name: string;
  readonly defaultValue: string | undefined;
  readonly parse: Parser<T>;
}

function variable<T>(name: string, defaultValue: string | undefined, parse: Parser<T>): Variable<T> {
  return { name, defaultValue, parse };
}

/** Every variable Vigie reads, with its default. `.env.example` must list exactly these. */
export const ENV_VARIABLES = {
  port: variable('PORT', '8000', integer(0, 65535)),
  host: variable('HOST', '127.0.0.1', nonEmpty),
  database: variable('DATABASE_URL', 'sqlite:./data/vigie.db', databaseUrl),
  dataDir: variable('DATA_DIR', './data', nonEmpty),
  redisUrl: variable('REDIS_URL', undefined, redisUrl),
  secretKey: variable('SECRET_KEY', undefined, secretKey),
  logLevel: variable('LOG_LEVEL', 'info', oneOf(LOG_LEVELS)),
  jwtExpiresMinutes: variable('JWT_EXPIRES_MINUTES', '60', integer(1, 60 * 24 * 30)),
  bodyLimitBytes: variable('BODY_LIMIT_BYTES', String(1024 * 1024), integer(1024, 512 * 1024 * 1024)),
  pingBodyLimitBytes: variable('PING_BODY_LIMIT_BYTES', '100000', integer(0, 10 * 1024 * 1024)),
  loginRateLimitPerMinute: variable('LOGIN_RATE_LIMIT_PER_MINUTE', '10', integer(1, 100_000)),
  pingRateLimitPerMinute: variable('PING_RATE_LIMIT_PER_MINUTE', '600', integer(0, 100_000_000)),
  pingMissRateLimitPerMinute: variable('PING_MISS_RATE_LIMIT_PER_MINUTE', '120', integer(0, 100_000_000)),
  trustProxy: variable('TRUST_PROXY', 'false', boolean),
  checkConcurrency: variable('CHECK_CONCURRENCY', '100', integer(1, 10_000)),
  resultsRetentionDays: variable('RESULTS_RETENTION_DAYS', '7', integer(1, 3650)),
  hourRollupsRetentionDays: variable('HOUR_ROLLUPS_RETENTION_DAYS', '35', integer(1, 36500)),
  dayRollupsRetentionDays: variable('DAY_ROLLUPS_RETENTION_DAYS', '400', integer(1, 36500)),
  metricsRawRetentionDays: variable('METRICS_RAW_RETENTION_DAYS', '7', integer(1, 3650)),
  metricsMinuteRollupsRetentionDays: variable('METRICS_MINUTE_ROLLUPS_RETENTION_DAYS', '30', integer(1, 3650)),
  metricsHourRollupsRetentionDays: variable('METRICS_HOUR_ROLLUPS_RETENTION_DAYS', '400', integer(1, 36500)),
  smtpHost: variable('SMTP_HOST', undefined, nonEmpty),
  smtpPort: variable('SMTP_PORT', '587', integer(1, 65535)),
  smtpSecure: variable('SMTP_SECURE', 'false', boolean),
  smtpUser: variable('SMTP_USER', undefined, nonEmpty),
  smtpPassword: variable('SMTP_PASSWORD', undefined, (raw) => raw),
  smtpFrom: variable('SMTP_FROM', 'Vigie <vigie@localhost>', nonEmpty),
  telegramApiBaseUrl: variable('TELEGRAM_API_BASE_URL', 'https://api.telegram.org', httpUrl),
  pagerdutyEventsUrl: variable('PAGERDUTY_EVENTS_URL', 'https://events.pagerduty.com/v2/enqueue', httpUrl),
  notifyTimeoutSeconds: variable('NOTIFY_TIMEOUT_SECONDS', '10', integer(1, 300)),
  selfMonitoringTenant: variable('SELF_MONITORING_TENANT', undefined, nonEmpty),
  metricRulesEvaluationSeconds: variable('METRIC_RULES_EVALUATION_SECONDS', '60', integer(5, 3600)),
  metricsToken: variable('METRICS_TOKEN', undefined, metricsToken),
  ingestMaxMetrics: variable('INGEST_MAX_METRICS', '10000', integer(1, 1_000_000)),
  ingestBodyLimitBytes: variable('INGEST_BODY_LIMIT_BYTES', String(8 * 1024 * 1024), integer(1024, 512 * 1024 * 1024)),
  ingestParseThreads: variable('INGEST_PARSE_THREADS', '1', integer(0, 16)),
  metricsIngestIdTtlHours: variable('METRICS_INGEST_ID_TTL_HOURS', '24', integer(1, 24 * 90)),
  bodyMaxDepth: variable('BODY_MAX_DEPTH', '64', integer(2, 1000)),
  requestTimeoutSeconds: variable('REQUEST_TIMEOUT_SECONDS', '30', integer(1, 24 * 3600)),
  headersTimeoutSeconds: variable('HEADERS_TIMEOUT_SECONDS', '10', integer(1, 3600)),
  keepAliveTimeoutSeconds: variable('KEEP_ALIVE_TIMEOUT_SECONDS', '5', integer(1, 3600)),
  connectionTimeoutSeconds: variable('CONNECTION_TIMEOUT_SECONDS', '60', integer(1, 24 * 3600)),
  // Its default comes from HOST and PORT (defaultPublicUrl), so it is filled in by loadConfig.
  publicUrl: variable('PUBLIC_URL', undefined, publicUrl),
  backupDepositDir: variable('BACKUP_DEPOSIT_DIR', undefined, nonEmpty),
  backupValidatedDir: variable('BACKUP_VALIDATED_DIR', undefined, nonEmpty),
  backupScanSeconds: variable('BACKUP_SCAN_SECONDS', '30', integer(1, 86_400)),
  backupSettleSeconds: variable('BACKUP_SETTLE_SECONDS', '10', integer(0, 3600)),
  backupQuarantineRetentionDays: variable('BACKUP_QUARANTINE_RETENTION_DAYS', '30', integer(1, 3650)),
  smtpdPort: variable('SMTPD_PORT', undefined, integer(0, 65535)),
  smtpdHost: variable('SMTPD_HOST', '127.0.0.1', nonEmpty),
  pingEmailDomain: variable('PING_EMAIL_DOMAIN', 'localhost', emailDomain),
  smtpdMaxMessageBytes: variable('SMTPD_MAX_MESSAGE_BYTES', String(1024 * 1024), integer(1024, 64 * 1024 * 1024)),
  wsPingIntervalSeconds: variable('WS_PING_INTERVAL_SECONDS', '30', integer(1, 3600)),
  wsIdleTimeoutSeconds: variable('WS_IDLE_TIMEOUT_SECONDS', '60', integer(1, 86_400)),
  wsMaxClients: variable('WS_MAX_CLIENTS', '100', integer(0, 1_000_000)),
  wsSendBufferBytes: variable('WS_SEND_BUFFER_BYTES', String(1024 * 1024), integer(1024, 1024 * 1024 * 1024)),
  wsCoalesceMs: variable('WS_COALESCE_MS', '1000', integer(0, 3_600_000)),
  wsWriteWindowMs: variable('WS_WRITE_WINDOW_MS', '10', integer(0, 1000)),
  realtimeChannelPrefix: variable('REALTIME_CHANNEL_PREFIX', 'vigie:realtime', nonEmpty),
  backupRunRetentionDays: variable('BACKUP_RUN_RETENTION_DAYS', '400', integer(1, 36_500)),
  backupClaimLeaseSeconds: variable('BACKUP_CLAIM_LEASE_SECONDS', '600', integer(30, 86_400)),
  backupUploadMaxBytes: variable('BACKUP_UPLOAD_MAX_BYTES', String(100 * 1024 ** 3), integer(1, Number.MAX_SAFE_INTEGER)),
} satisfies { [K in keyof Config]: Variable<Config[K]> };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(ENV_VARIABLES) as [string, Variable<unknown>][]) {
    const raw = env[spec.name] === '' ? undefined : env[spec.name];
    const source = raw ?? spec.defaultValue;
    if (source === undefined) {
      values[key] = undefined;
      continue;
    }
    try {
      values[key] = spec.parse(source);
    } catch (error) {
      throw new ConfigError(spec.name, (error as Error).message);
    }
  }
  values.publicUrl ??= defaultPublicUrl(values.host as string, values.port as number);
  // Node refuses a headers timeout longer than the request timeout: say so in our own words.
  if ((values.headersTimeoutSeconds as number) > (values.requestTimeoutSeconds as number)) {
    throw new ConfigError('HEADERS_TIMEOUT_SECONDS', `must not be longer than REQUEST_TIMEOUT_SECONDS (${String(values.requestTimeoutSeconds)}), got ${String(values.headersTimeoutSeconds)}`);
  }
  return Object.freeze(values) as unknown as Config;
}
