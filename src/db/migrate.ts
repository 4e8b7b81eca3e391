import { Migrator, type MigrationResultSet } from 'kysely';
import type { Db } from './database.js';
import { migrations } from './migrations/index.js';

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(migrationName ? `Migration ${migrationName} failed: ${reason}` : `Migrations failed: ${reason}`);
    this.name = 'MigrationError';
  }
}

export function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Applies every pending migration; throws MigrationError naming the one that failed. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return appliedNames(await createMigrator(db).migrateToLatest());
}

function appliedNames({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationError(failed, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
