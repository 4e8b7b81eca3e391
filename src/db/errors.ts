/** Dialect-neutral recognition of database errors that services turn into client errors. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // SQLite (better-sqlite3) and PostgreSQL (SQLSTATE 23505) name it differently.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Network codes of a PostgreSQL server that cannot be reached (node's errors, as pg passes them on). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** PostgreSQL: shutting down or starting (57P01–57P03), out of connections (53300), out of disk or memory (53100, 53200). */
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '53100', '53200']);
/** SQLite: locked beyond busy_timeout, disk full, I/O error, file gone or read-only. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/;
/** What pg and better-sqlite3 throw, without a code, once the connection or pool is gone. */
const GONE_MESSAGES = [
  'Connection terminated',
  'is not queryable', // pg: a client whose connection failed or was closed
  'Cannot use a pool after calling end on the pool',
  'timeout exceeded when trying to connect',
  'The database connection is not open',
  'driver has already been destroyed',
];

/**
 * True for an error that says the database cannot serve the request now (unreachable, shutting
 * down, locked too long, out of disk) rather than that the request or the code is wrong: the
 * HTTP layer answers 503 with Retry-After, so clients (agents, `vigie ping`) try again, instead
 * of a 500 that reads like a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNREACHABLE_CODES.has(code) || POSTGRES_UNAVAILABLE.has(code) || code.startsWith('08') || SQLITE_UNAVAILABLE.test(code)) return true;
  }
  return typeof message === 'string' && GONE_MESSAGES.some((gone) => message.includes(gone));
}
