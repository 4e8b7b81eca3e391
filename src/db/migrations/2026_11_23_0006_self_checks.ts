import type { Kysely } from 'kysely';

/**
 * Self-monitoring: which monitor of kind `self` watches which part of Vigie (database, redis,
 * job-runner, scheduler, delivery). One row per monitor; one check per service per tenant, so
 * two replicas provisioning at the same moment create each check once (the second insert
 * fails on the unique index and its transaction, with its monitor row, is rolled back).
 * `monitors.kind` is free text (no CHECK constraint lists the kinds), so the new kind needs
 * no change there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('self_checks')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('service', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('self_checks_tenant_service_uq').on('self_checks').columns(['tenant_id', 'service']).unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('self_checks').execute();
}
