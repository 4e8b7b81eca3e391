import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_DATA } from '../src/auth/bootstrap.js';
import { verifyPassword } from '../src/auth/passwords.js';
import { openDatabase } from '../src/db/database.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';

const SECRET_KEY = 'cli-test-secret-cli-test-secret-0123456789';

async function dumpTables(url: TestDatabase) {
  const database = await openDatabase(url.target);
  try {
    const dump: Record<string, unknown[]> = {};
    for (const table of ['tenants', 'tenant_settings', 'users', 'api_keys', 'app_meta'] as const) {
      dump[table] = await database.db
        .selectFrom(table)
        .selectAll()
        .orderBy(table === 'tenant_settings' ? 'tenant_id' : table === 'app_meta' ? 'key' : 'id')
        .execute();
    }
    return dump;
  } finally {
    await database.close();
  }
}

describe.each(TEST_DIALECTS)('vigie CLI on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let cwd: string;
  let server: ServeProcess | undefined;

  afterEach(async () => {
    if (server && server.child.exitCode === null) await server.stop('SIGKILL');
    server = undefined;
    await testDatabase?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  async function prepare() {
    testDatabase = await createTestDatabase(dialect);
    cwd = tempWorkDir();
    return { DATABASE_URL: testDatabase.url, SECRET_KEY };
  }

  it('first start on an empty database prints working credentials once, never again', async () => {
    const env = await prepare();
    server = await startServe({ cwd, env });
    const { stdout } = server.output();
    expect(stdout).toContain('shown ONCE');
    const email = /Login e-mail : (\S+)/.exec(stdout)?.[1];
    const password = /Password {5}: (\S+)/.exec(stdout)?.[1];
    const apiKey = /API key {6}: (\S+)/.exec(stdout)?.[1];
    expect(email).toBe('admin@vigie.local');
    expect(password).toMatch(/^[\w-]{16}$/);
    expect(apiKey).toMatch(/^vk_[\w-]{43}$/);

    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: email!, password: password! }),
    });
    expect(login.status).toBe(200);
    const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { 'x-api-key': apiKey! } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { scope: string }).scope).toBe('full');
    expect(await server.stop()).toBe(0);

    server = await startServe({ cwd, env });
    expect(server.output().stdout).not.toContain('shown ONCE');
    expect(server.output().stdout).not.toContain(password!);
    expect(await server.stop()).toBe(0);
  });

  it('bootstrap --dev creates the seed data set exactly, and a second run changes nothing', async () => {
    const env = await prepare();
    const first = await runCli(['bootstrap', '--dev'], { cwd, env });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('development credentials');
    expect(first.stdout).toContain(`created: API key ${DEV_DATA.apiKey}`);

    const dump = await dumpTables(testDatabase);
    expect(dump.tenants).toMatchObject([{ id: '00000000-0000-0000-0000-000000000001', name: 'Dev' }]);
    expect(dump.tenant_settings).toMatchObject([
      {
        tenant_id: '00000000-0000-0000-0000-000000000001',
        notification_email: 'alerts@example.com',
        heartbeat_threshold_minutes: 5,
        consecutive_failures_threshold: 2,
        alert_grouping_enabled: 1,
      },
    ]);
    expect(dump.api_keys).toMatchObject([{ id: '00000000-0000-0000-0000-000000000002', scope: 'full', key_hash: createHash('sha256').update('dev-apikey-123').digest('hex') }]);
    const [user] = dump.users as { email: string; password_hash: string; is_superuser: number; role: string }[];
    expect(user).toMatchObject({ email: 'admin@example.com', is_superuser: 1, role: 'admin' });
    expect(await verifyPassword('admin123', user!.password_hash)).toBe(true);

    const second = await runCli(['bootstrap', '--dev'], { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('created:');
    expect(await dumpTables(testDatabase)).toEqual(dump);

    // The dev key and user work against a real server, which creates no second admin.
    server = await startServe({ cwd, env });
    expect(server.output().stdout).not.toContain('shown ONCE');
    const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { 'x-api-key': 'dev-apikey-123' } });
    expect(await me.json()).toMatchObject({ auth: 'api_key', tenant_id: DEV_DATA.tenantId });
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=admin@example.com&password=admin123',
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { token_type: string }).token_type).toBe('bearer');
  });

  it('bootstrap without --dev prints credentials on an empty database, then says there is nothing to do', async () => {
    const env = await prepare();
    const first = await runCli(['bootstrap'], { cwd, env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('shown ONCE');
    const again = await runCli(['bootstrap'], { cwd, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already bootstrapped');
    expect(again.stdout).not.toContain('Password');
  });

  it('migrate applies the schema, then reports it up to date', async () => {
    const env = await prepare();
    const first = await runCli(['migrate'], { cwd, env });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('2026_11_21_0001_foundation');
    const second = await runCli(['migrate'], { cwd, env });
    expect(second.stdout).toContain('up to date');
  });

  it('migrate exits non-zero and names the migration that failed', async () => {
    const env = await prepare();
    // A table that is in the way makes the first migration fail.
    const database = await openDatabase(testDatabase.target);
    await database.db.schema.createTable('tenants').addColumn('x', 'text').execute();
    await database.close();
    const result = await runCli(['migrate'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^vigie: Migration 2026_11_21_0001_foundation failed: .*tenants.*\n$/);
  });
});

describe('vigie CLI start-up errors', () => {
  const cwd = tempWorkDir();

  it('refuses a DATABASE_URL of an unsupported kind with one line naming it', async () => {
    const result = await runCli(['serve'], { cwd, env: { DATABASE_URL: 'mysql://root@localhost/vigie' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('vigie: Invalid environment variable DATABASE_URL: unsupported scheme "mysql:"; use sqlite:PATH or postgres://user:password@host:5432/database\n');
  });

  it('fails clearly, without the password, when PostgreSQL cannot be reached', async () => {
    const result = await runCli(['serve'], { cwd, env: { DATABASE_URL: 'postgres://vigie:hunter2secret@127.0.0.1:1/vigie' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('vigie: Cannot connect to the database at postgres://vigie:***@127.0.0.1:1/vigie');
    expect(result.stderr).not.toContain('hunter2secret');
  });

  it('names the variable of any invalid value', async () => {
    for (const [name, value] of [
      ['PORT', 'eighty'],
      ['LOG_LEVEL', 'loud'],
      ['SECRET_KEY', 'short'],
      ['REDIS_URL', 'http://localhost'],
    ]) {
      const result = await runCli(['migrate'], { cwd, env: { [name!]: value! } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^vigie: Invalid environment variable ${name}: [^\\n]+\\n$`));
    }
  });

  it('reads .env from the working directory, with the real environment winning', async () => {
    const dir = tempWorkDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=sqlite:./from-dotenv/vigie.db\nLOG_LEVEL=nonsense\n');
    const overridden = await runCli(['migrate'], { cwd: dir, env: { LOG_LEVEL: 'warn' } });
    expect(overridden.code).toBe(0);
    expect(existsSync(join(dir, 'from-dotenv', 'vigie.db'))).toBe(true);
    const fromFile = await runCli(['migrate'], { cwd: dir });
    expect(fromFile.stderr).toContain('Invalid environment variable LOG_LEVEL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help for the CLI and for each command, and rejects unknown ones', async () => {
    const top = await runCli(['--help'], { cwd });
    expect(top.code).toBe(0);
    for (const command of ['serve', 'migrate', 'bootstrap']) {
      expect(top.stdout).toContain(command);
      const help = await runCli([command, '--help'], { cwd });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: vigie ${command}`);
    }
    expect((await runCli(['bootstrap', '--help'], { cwd })).stdout).toContain('--dev');
    const unknown = await runCli(['frobnicate'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badFlag = await runCli(['migrate', '--nope'], { cwd });
    expect(badFlag.code).toBe(2);
  });
});
