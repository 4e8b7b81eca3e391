import type { Kysely } from 'kysely';

/**
 * The router sends a recovery only to the channels that were told of the incident it ends
 * (alerting/router.ts): it looks the incident's earlier events up by incident id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('alert_events_incident_idx').on('alert_events').column('incident_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('alert_events_incident_idx').execute();
}
