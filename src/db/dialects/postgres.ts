import pg from 'pg';
import { PostgresDialect } from 'kysely';
import type { StorageDialect } from './storage-dialect.js';

const INT8_OID = 20;

/**
 * PostgreSQL for scale-out. Times are epoch milliseconds in bigint columns: pg returns int8 as
 * a string by default, so this pool parses it to a number (safe: epoch ms stay far below 2^53).
 */
export const postgresDialect: StorageDialect<{ dialect: 'postgres'; url: string }> = {
  name: 'postgres',
  createKyselyDialect(target) {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: 10,
      connectionTimeoutMillis: 10_000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- pg declares its own parsers as returning any
          oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    return new PostgresDialect({ pool });
  },
};
