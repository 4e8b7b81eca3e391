import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../src/config.js';
import { describeDatabaseTarget, parseDatabaseUrl } from '../src/db/database-url.js';
import { resolveSecretKey } from '../src/secret-key.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      database: { dialect: 'sqlite', path: './data/vigie.db' },
      dataDir: './data',
      redisUrl: undefined,
      secretKey: undefined,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '' })).toMatchObject({ port: 8000, redisUrl: undefined });
  });

  it.each([
    ['PORT', '99999', 'Invalid environment variable PORT: expected an integer from 0 to 65535, got 99999'],
    ['PORT', 'abc', 'Invalid environment variable PORT: expected an integer, got "abc"'],
    ['LOG_LEVEL', 'verbose', 'Invalid environment variable LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ['DATABASE_URL', 'sqlite:', 'Invalid environment variable DATABASE_URL: expected a file path after "sqlite:", e.g. sqlite:./data/vigie.db'],
    ['DATABASE_URL', 'postgres://host', 'Invalid environment variable DATABASE_URL: names no database; expected postgres://user:password@host:5432/database'],
    ['TRUST_PROXY', 'maybe', 'Invalid environment variable TRUST_PROXY: expected true or false, got "maybe"'],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe(message);
    expect((thrown as ConfigError).variable).toBe(name);
  });

  it('parses every form of DATABASE_URL', () => {
    expect(parseDatabaseUrl('sqlite:./data/x.db')).toEqual({ dialect: 'sqlite', path: './data/x.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/vigie.db')).toEqual({ dialect: 'sqlite', path: '/var/lib/vigie.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('postgresql://u:p@h:5432/db')).toEqual({ dialect: 'postgres', url: 'postgresql://u:p@h:5432/db' });
    expect(describeDatabaseTarget(parseDatabaseUrl('postgres://u:secret@h:5432/db'))).toBe('postgres://u:***@h:5432/db');
  });

  it('.env.example documents exactly the variables Vigie reads', () => {
    const example = readFileSync('.env.example', 'utf8');
    const documented = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]).sort();
    const read = Object.values(ENV_VARIABLES)
      .map((v) => v.name)
      .sort();
    expect(documented).toEqual(read);
    // and its values, where given, are the defaults
    for (const spec of Object.values(ENV_VARIABLES)) {
      const line = new RegExp(`^${spec.name}=(.*)$`, 'm').exec(example);
      expect(line?.[1] === '' ? undefined : line?.[1]).toBe(spec.defaultValue);
    }
  });
});

describe('secret key', () => {
  it('uses SECRET_KEY when set, else generates one file once (owner-only) and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-secret-'));
    const warnings: string[] = [];
    expect(resolveSecretKey('x'.repeat(40), dir, (m) => warnings.push(m))).toBe('x'.repeat(40));
    expect(warnings).toEqual([]);

    const generated = resolveSecretKey(undefined, join(dir, 'data'), (m) => warnings.push(m));
    expect(generated).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'data', 'secret_key')).mode & 0o777).toBe(0o600);
    expect(resolveSecretKey(undefined, join(dir, 'data'), (m) => warnings.push(m))).toBe(generated);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('generated one');
    expect(warnings[1]).toContain('using the key kept in');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('notification settings', () => {
  it('have no SMTP relay by default and the public API addresses', async () => {
    const { providerSettingsFrom } = await import('../src/notify/settings.js');
    expect(providerSettingsFrom(loadConfig({}))).toEqual({
      smtp: null,
      telegramApiBaseUrl: 'https://api.telegram.org',
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      timeoutMs: 10_000,
    });
  });

  it('read the SMTP relay and the test servers from the environment', async () => {
    const { providerSettingsFrom } = await import('../src/notify/settings.js');
    const config = loadConfig({
      SMTP_HOST: 'mail.example.com',
      SMTP_PORT: '465',
      SMTP_SECURE: 'true',
      SMTP_USER: 'vigie',
      SMTP_PASSWORD: 's3cret',
      SMTP_FROM: 'Ops <ops@example.com>',
      TELEGRAM_API_BASE_URL: 'http://127.0.0.1:9999/',
      PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9998/v2/enqueue',
      NOTIFY_TIMEOUT_SECONDS: '3',
    });
    expect(providerSettingsFrom(config)).toEqual({
      smtp: { host: 'mail.example.com', port: 465, secure: true, user: 'vigie', password: 's3cret', from: 'Ops <ops@example.com>' },
      telegramApiBaseUrl: 'http://127.0.0.1:9999',
      pagerdutyEventsUrl: 'http://127.0.0.1:9998/v2/enqueue',
      timeoutMs: 3000,
    });
  });

  it('refuse a base URL that is not http(s)', () => {
    expect(() => loadConfig({ TELEGRAM_API_BASE_URL: 'ftp://x' })).toThrow('Invalid environment variable TELEGRAM_API_BASE_URL: expected an http(s) URL, got scheme "ftp:"');
  });
});
