import type { Db } from '../../db/database.js';
import type { HttpTargetsTable } from '../../db/tables/http-targets.table.js';
import type { Assertion } from './assertions.js';
import { urlKey } from './url-key.js';
import type { HttpAuth, HttpProbeTarget } from './probe.js';

export interface HttpTargetSettings extends HttpProbeTarget {
  monitorId: string;
  tenantId: string;
}

const toSettings = (row: HttpTargetsTable): HttpTargetSettings => ({
  monitorId: row.monitor_id,
  tenantId: row.tenant_id,
  url: row.url,
  method: row.method,
  expectedStatusCode: row.expected_status_code,
  timeoutSeconds: row.timeout_seconds,
  followRedirects: row.follow_redirects === 1,
  tlsSkipVerify: row.tls_skip_verify === 1,
  headers: JSON.parse(row.headers_json) as Record<string, string>,
  body: row.body,
  auth: row.auth_json ? (JSON.parse(row.auth_json) as HttpAuth) : null,
  assertions: JSON.parse(row.assertions_json) as Assertion[],
});

function toColumns(settings: Partial<HttpProbeTarget>): Partial<HttpTargetsTable> {
  return {
    ...(settings.url !== undefined && { url: settings.url, url_key: urlKey(settings.url) }),
    ...(settings.method !== undefined && { method: settings.method }),
    ...(settings.expectedStatusCode !== undefined && { expected_status_code: settings.expectedStatusCode }),
    ...(settings.timeoutSeconds !== undefined && { timeout_seconds: settings.timeoutSeconds }),
    ...(settings.followRedirects !== undefined && { follow_redirects: settings.followRedirects ? 1 : 0 }),
    ...(settings.tlsSkipVerify !== undefined && { tls_skip_verify: settings.tlsSkipVerify ? 1 : 0 }),
    ...(settings.headers !== undefined && { headers_json: JSON.stringify(settings.headers) }),
    ...(settings.body !== undefined && { body: settings.body }),
    ...(settings.auth !== undefined && { auth_json: settings.auth ? JSON.stringify(settings.auth) : null }),
    ...(settings.assertions !== undefined && { assertions_json: JSON.stringify(settings.assertions) }),
  };
}

/** The settings row of a new target, for createMonitorWithSettings. */
export const newHttpTargetRow = (settings: HttpProbeTarget) => toColumns(settings) as Omit<HttpTargetsTable, 'monitor_id' | 'tenant_id'>;

export async function updateHttpTarget(db: Db, tenantId: string, monitorId: string, patch: Partial<HttpProbeTarget>): Promise<void> {
  const columns = toColumns(patch);
  if (Object.keys(columns).length === 0) return;
  await db.updateTable('http_targets').set(columns).where('tenant_id', '=', tenantId).where('monitor_id', '=', monitorId).execute();
}

export async function findHttpTarget(db: Db, tenantId: string, monitorId: string): Promise<HttpTargetSettings | undefined> {
  const row = await db.selectFrom('http_targets').selectAll().where('tenant_id', '=', tenantId).where('monitor_id', '=', monitorId).executeTakeFirst();
  return row && toSettings(row);
}

/** The target the duplicate-URL rule says `url` is (same normalised URL), if any. */
export async function findHttpTargetIdByUrl(db: Db, tenantId: string, url: string): Promise<string | undefined> {
  const row = await db.selectFrom('http_targets').select('monitor_id').where('tenant_id', '=', tenantId).where('url_key', '=', urlKey(url)).executeTakeFirst();
  return row?.monitor_id;
}

export async function listHttpTargets(db: Db, tenantId: string): Promise<HttpTargetSettings[]> {
  const rows = await db.selectFrom('http_targets').selectAll().where('tenant_id', '=', tenantId).execute();
  return rows.map(toSettings);
}

/** The checker's read: by monitor id alone, because a queued check carries no tenant. */
export async function findHttpTargetForCheck(db: Db, monitorId: string): Promise<HttpTargetSettings | undefined> {
  const row = await db.selectFrom('http_targets').selectAll().where('monitor_id', '=', monitorId).executeTakeFirst();
  return row && toSettings(row);
}
