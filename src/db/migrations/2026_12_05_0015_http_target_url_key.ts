/**
 * Seed 000's one-target-per-URL rule compares normalised URLs: `url_key` is the URL as the WHATWG
 * parser writes it (scheme and host lower-cased, default port dropped, empty path as `/`; the path
 * keeps its case), unique per tenant in place of the raw `url`. The raw URL stays as the client
 * wrote it, for answers.
 *
 * Existing rows get their key here, oldest target first. Targets that the old rule let in twice
 * (`HTTPS://EXAMPLE.COM/x` beside `https://example.com/x`) are all kept: the later ones get a key
 * of their own (`duplicate:<id>:…`, which no URL normalises to), and a new target with that URL is
 * a 409 naming the oldest.
 *
 * The normalisation is written out here rather than imported, so this migration keeps doing what
 * it did if the application's rule changes later (kinds/http/url-key.ts).
 */
import type { Kysely } from 'kysely';

function normalised(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url; // stored before URLs were checked: compared as written
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('http_targets')
    .addColumn('url_key', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  const rows: { monitor_id: string; tenant_id: string; url: string }[] = await db
    .selectFrom('http_targets')
    .innerJoin('monitors', 'monitors.id', 'http_targets.monitor_id')
    .select(['http_targets.monitor_id', 'http_targets.tenant_id', 'http_targets.url'])
    .orderBy('monitors.created_at')
    .orderBy('http_targets.monitor_id')
    .execute();
  const taken = new Set<string>();
  for (const row of rows) {
    let key = normalised(row.url);
    if (taken.has(`${row.tenant_id} ${key}`)) key = `duplicate:${row.monitor_id}:${key}`;
    taken.add(`${row.tenant_id} ${key}`);
    await db.updateTable('http_targets').set({ url_key: key }).where('monitor_id', '=', row.monitor_id).execute();
  }
  await db.schema.dropIndex('http_targets_tenant_url_uq').execute();
  await db.schema.createIndex('http_targets_tenant_url_key_uq').on('http_targets').columns(['tenant_id', 'url_key']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('http_targets_tenant_url_key_uq').execute();
  await db.schema.createIndex('http_targets_tenant_url_uq').on('http_targets').columns(['tenant_id', 'url']).unique().execute();
  await db.schema.alterTable('http_targets').dropColumn('url_key').execute();
}
