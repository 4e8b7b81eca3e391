/**
 * Which database errors the API answers with 503 (the database cannot serve now: retry) rather
 * than 500 (a bug): each case is a real failure provoked on a real SQLite file or PostgreSQL
 * server, not a hand-made error object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { TEST_DIALECTS } from './helpers/databases.js';

/** The error `work` throws (the test fails if it throws none). */
async function thrown(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('unavailable SQLite', () => {
  let dir: string | undefined;
  const open: Sqlite.Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  function connect(timeoutMs = 0) {
    dir ??= mkdtempSync(join(tmpdir(), 'vigie-unavailable-'));
    const db = new Sqlite(join(dir, 'x.db'), { timeout: timeoutMs });
    open.push(db);
    return db;
  }

  it('a database locked by another writer past the busy timeout is unavailable', async () => {
    const holder = connect();
    holder.exec('create table t (id integer primary key); begin immediate; insert into t values (1)');
    const error = await thrown(() => connect().exec('begin immediate'));
    expect((error as { code: string }).code).toBe('SQLITE_BUSY');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('a closed connection is unavailable', async () => {
    const db = connect();
    db.close();
    expect(isDatabaseUnavailable(await thrown(() => db.prepare('select 1')))).toBe(true);
  });

  it('a constraint, a missing table or bad SQL is not: those are bugs or the client\u2019s doing', async () => {
    const db = connect();
    db.exec('create table t (id integer primary key)');
    db.exec('insert into t values (1)');
    expect(isDatabaseUnavailable(await thrown(() => db.exec('insert into t values (1)')))).toBe(false);
    expect(isDatabaseUnavailable(await thrown(() => db.exec('select * from missing')))).toBe(false);
    expect(isDatabaseUnavailable(await thrown(() => db.exec('selec 1')))).toBe(false);
  });
});

describe.runIf(TEST_DIALECTS.includes('postgres'))('unavailable PostgreSQL', () => {
  const url = process.env.TEST_DATABASE_URL!;

  it('a server that refuses connections is unavailable', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://vigie:secret@127.0.0.1:1/vigie', connectionTimeoutMillis: 5000 });
    const error = await thrown(() => pool.query('select 1'));
    await pool.end();
    expect((error as { code: string }).code).toBe('ECONNREFUSED');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('a connection the server terminates (as at shutdown) is unavailable', async () => {
    const victim = new pg.Client({ connectionString: url });
    victim.on('error', () => undefined); // the termination also arrives as an event
    const admin = new pg.Client({ connectionString: url });
    await Promise.all([victim.connect(), admin.connect()]);
    try {
      const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      expect(isDatabaseUnavailable(await thrown(() => victim.query('select 1')))).toBe(true);
    } finally {
      await admin.end();
      await victim.end().catch(() => undefined);
    }
  });

  it('a pool that has been ended is unavailable', async () => {
    const pool = new pg.Pool({ connectionString: url });
    await pool.end();
    expect(isDatabaseUnavailable(await thrown(() => pool.query('select 1')))).toBe(true);
  });

  it('a unique violation or bad SQL is not', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect(isDatabaseUnavailable(await thrown(() => client.query('select 1 from missing_table')))).toBe(false);
      expect(isDatabaseUnavailable(await thrown(() => client.query('selec 1')))).toBe(false);
      expect(isDatabaseUnavailable(await thrown(() => client.query('select 1/0')))).toBe(false);
    } finally {
      await client.end();
    }
  });
});

describe('anything else', () => {
  it('is not a database outage', () => {
    for (const value of [undefined, null, 'ECONNREFUSED', 42, new Error('boom'), { code: 23505 }]) expect(isDatabaseUnavailable(value)).toBe(false);
  });
});
