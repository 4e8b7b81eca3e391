/**
 * DATABASE_URL → which storage dialect and where. `sqlite:PATH` (relative to the working
 * directory, or `sqlite:///absolute/path`, or `sqlite::memory:`) selects the embedded default;
 * `postgres://` or `postgresql://` selects PostgreSQL.
 */
export type DatabaseTarget = { readonly dialect: 'sqlite'; readonly path: string } | { readonly dialect: 'postgres'; readonly url: string };

export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const value = raw.trim();
  if (value.startsWith('sqlite:')) {
    let path = value.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path → /abs/path
    if (path === '') throw new Error('expected a file path after "sqlite:", e.g. sqlite:./data/vigie.db');
    return { dialect: 'sqlite', path };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('is not a valid URL; expected postgres://user:password@host:5432/database');
    }
    if (url.pathname.length <= 1) throw new Error('names no database; expected postgres://user:password@host:5432/database');
    return { dialect: 'postgres', url: value };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  throw new Error(
    scheme ? `unsupported scheme "${scheme}:"; use sqlite:PATH or postgres://user:password@host:5432/database` : `expected sqlite:PATH or postgres://user:password@host:5432/database, got "${raw}"`,
  );
}

/** The URL with its password masked, for logs and error messages. */
export function describeDatabaseTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `sqlite:${target.path}`;
  const url = new URL(target.url);
  if (url.password) url.password = '***';
  return url.toString();
}
