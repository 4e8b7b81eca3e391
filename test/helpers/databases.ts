/**
 * Real databases for tests: a fresh SQLite file per call, and, when TEST_DATABASE_URL is set,
 * a fresh PostgreSQL database per call (created on that server, dropped afterwards), so suites
 * can run in parallel without seeing each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/db/database-url.js';
import type { DialectName } from '../../src/db/dialects/index.js';

/** The dialects this run covers: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const TEST_DIALECTS: DialectName[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  readonly target: DatabaseTarget;
  /** The DATABASE_URL that selects it, for subprocesses. */
  readonly url: string;
  drop(): Promise<void>;
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-test-'));
    const path = join(dir, 'vigie.db');
    return {
      target: { dialect: 'sqlite', path },
      url: `sqlite:${path}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const name = `vigie_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    target: { dialect: 'postgres', url: url.toString() },
    url: url.toString(),
    drop: () => dropDatabase(name),
  };
}

/**
 * DROP … WITH (FORCE) ends the sessions still on the database, but not a session of another role
 * (an autovacuum worker that picked the database during a busy run): PostgreSQL then refuses with
 * "must be a member of the role whose process is being terminated". Such a worker is gone
 * moments later, so try again a few times before failing the suite.
 */
async function dropDatabase(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      return;
    } catch (error) {
      if (attempt >= 10 || !/must be a member of the role/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}
