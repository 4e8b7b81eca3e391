/**
 * The tenant's ping key, the first part of its slug ping URLs (`/ping/{ping_key}/{slug}`), for
 * admins: read it, or replace it (every slug URL given out before stops working, as when
 * Healthchecks' project ping key is regenerated).
 */
import { Type } from 'typebox';
import type { Db } from '../db/database.js';
import { readPingKey, regeneratePingKey } from '../heartbeats/ping-key.js';
import { actorOf } from '../http/access.js';
import { errorResponses } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';

const PingKey = Type.Object({ ping_key: Type.String({ description: 'The key of /ping/{ping_key}/{slug} URLs' }) });

export function registerPingKeyRoutes(app: VigieApp, db: Db): void {
  const tags = ['settings'];
  app.get(
    '/api/v1/settings/ping-key',
    { config: { access: 'admin' }, schema: { tags, summary: "The tenant's ping key (slug ping URLs)", response: { 200: PingKey, ...errorResponses(401, 403) } } },
    async (request) => ({ ping_key: await readPingKey(db, actorOf(request).tenantId) }),
  );
  app.post(
    '/api/v1/settings/ping-key/regenerate',
    { config: { access: 'admin' }, schema: { tags, summary: 'Replace the ping key: slug URLs with the old one stop working', response: { 200: PingKey, ...errorResponses(401, 403) } } },
    async (request) => ({ ping_key: await regeneratePingKey(db, actorOf(request).tenantId) }),
  );
}
