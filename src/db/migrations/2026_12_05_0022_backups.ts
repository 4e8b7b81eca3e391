/**
 * Seed 001's backup jobs (a monitor's settings) and their runs. A run is unique per job and agent
 * run id, so a run listed again in a later STATUS.json is never processed twice; runs are
 * indexed by state for the scanner and recovery, and jobs by `missing_at` for the MISSING sweep.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('backup_jobs')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('database_name', 'text', (c) => c.notNull())
    .addColumn('interval_seconds', 'integer')
    .addColumn('schedule', 'text')
    .addColumn('tz', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('grace_seconds', 'integer', (c) => c.notNull())
    .addColumn('size_anomaly_percent', 'integer', (c) => c.notNull())
    .addColumn('size_anomaly_floor_bytes', 'bigint', (c) => c.notNull())
    .addColumn('size_window', 'integer', (c) => c.notNull())
    .addColumn('keep_healthy', 'integer', (c) => c.notNull())
    .addColumn('allowed_unchanged_runs', 'integer', (c) => c.notNull())
    .addColumn('unchanged_streak', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expected_at', 'bigint')
    .addColumn('missing_at', 'bigint')
    .addColumn('last_run_at', 'bigint')
    .execute();
  await db.schema.createIndex('backup_jobs_tenant_agent_idx').on('backup_jobs').columns(['tenant_id', 'agent']).execute();
  await db.schema.createIndex('backup_jobs_missing_idx').on('backup_jobs').column('missing_at').where(sql.ref('missing_at'), 'is not', null).execute();

  await db.schema
    .createTable('backup_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('reason', 'text')
    .addColumn('agent_status', 'text')
    .addColumn('agent_message', 'text')
    .addColumn('log_tail', 'text')
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('file_count', 'integer', (c) => c.notNull())
    .addColumn('expected_size', 'bigint')
    .addColumn('measured_size', 'bigint')
    .addColumn('expected_sha256', 'text')
    .addColumn('measured_sha256', 'text')
    .addColumn('files_json', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('judged_at', 'bigint')
    .addColumn('result_status', 'text')
    .addColumn('validated_at', 'bigint')
    .addColumn('promoted_at', 'bigint')
    .addColumn('validation_ms', 'bigint')
    .addColumn('promotion_ms', 'bigint')
    .addColumn('claim_token', 'text')
    .addColumn('cleaned_at', 'bigint')
    .addColumn('pruned_at', 'bigint')
    .execute();
  await db.schema.createIndex('backup_runs_job_run_idx').on('backup_runs').columns(['monitor_id', 'run_id']).unique().execute();
  await db.schema.createIndex('backup_runs_job_received_idx').on('backup_runs').columns(['monitor_id', 'received_at']).execute();
  await db.schema.createIndex('backup_runs_job_judged_idx').on('backup_runs').columns(['monitor_id', 'judged_at']).execute();
  await db.schema.createIndex('backup_runs_state_idx').on('backup_runs').column('state').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('backup_runs').execute();
  await db.schema.dropTable('backup_jobs').execute();
}
