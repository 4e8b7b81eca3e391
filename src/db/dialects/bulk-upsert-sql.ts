/** The parts of a bulk upsert's SQL that both dialects write alike. */
import type { BulkUpsertSpec } from './storage-dialect.js';

/** Identifiers here come from code (a spec), never from input; quoted so any name works. */
export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function columnNames(spec: BulkUpsertSpec): string[] {
  return Object.keys(spec.columns);
}

/** `insert into "t" ("a", "b")`: the head of the statement. */
export function insertHead(spec: BulkUpsertSpec): string {
  return `insert into ${quoted(spec.table)} (${columnNames(spec).map(quoted).join(', ')})`;
}

/** The same key again keeps the values written last (or nothing to update: the row stays). */
export function onConflict(spec: BulkUpsertSpec): string {
  const updated = columnNames(spec).filter((name) => !spec.conflict.includes(name));
  const target = `on conflict (${spec.conflict.map(quoted).join(', ')})`;
  if (updated.length === 0) return `${target} do nothing`;
  return `${target} do update set ${updated.map((name) => `${quoted(name)} = excluded.${quoted(name)}`).join(', ')}`;
}

export function checkedRowCount(spec: BulkUpsertSpec, columns: readonly (readonly unknown[])[]): number {
  const names = columnNames(spec);
  if (columns.length !== names.length) throw new Error(`bulk upsert into ${spec.table}: ${names.length} columns expected, ${columns.length} given`);
  const count = columns[0]?.length ?? 0;
  if (columns.some((values) => values.length !== count)) throw new Error(`bulk upsert into ${spec.table}: the columns' lengths differ`);
  return count;
}
