/**
 * SQLite's bulk upsert: a multi-row VALUES list, cut into chunks of fixed sizes so that a handful
 * of statements serves every row count, each prepared once and run straight on the
 * transaction's connection (db/precompiled.ts, rawStatement): one statement per row cost more
 * in the query layer than SQLite took to store the row.
 */
import type { Kysely } from 'kysely';
import { rawStatement, type RawStatement } from '../precompiled.js';
import { checkedRowCount, columnNames, insertHead, onConflict } from './bulk-upsert-sql.js';
import type { BulkUpsert, BulkUpsertSpec } from './storage-dialect.js';

/** Rows per statement, largest first (256 rows of a few columns stay far below SQLite's 32,766 parameters). */
const CHUNKS = [256, 64, 16, 4, 1];

export function sqliteBulkUpsert(spec: BulkUpsertSpec): BulkUpsert {
  const width = columnNames(spec).length;
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  const statements = new Map<number, RawStatement<unknown>>(
    CHUNKS.map((rows) => [rows, rawStatement(`${insertHead(spec)} values ${Array.from({ length: rows }, () => row).join(', ')} ${onConflict(spec)}`)]),
  );
  return {
    async run(trx: Kysely<any>, columns) {
      const count = checkedRowCount(spec, columns);
      let start = 0;
      for (const chunk of CHUNKS) {
        const statement = statements.get(chunk)!;
        while (count - start >= chunk) {
          // Row-major, as the VALUES list reads.
          const parameters = new Array<unknown>(chunk * width);
          for (let i = 0; i < chunk; i++) {
            for (let c = 0; c < width; c++) parameters[width * i + c] = columns[c]![start + i];
          }
          await statement.run(trx, parameters);
          start += chunk;
        }
      }
    },
  };
}
