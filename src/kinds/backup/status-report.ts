/**
 * STATUS.json, the agent's report and the commit marker of its deposits: its JSON schema
 * (served at GET /api/v1/backups/status-schema and kept in schemas/status.schema.json), the
 * parse with clear errors, and the manifest checksum both sides compute.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Lower-case hexadecimal SHA-256' });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601 time' });

export const ManifestFile = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 1024, description: "Relative to the job's deposit directory; no absolute path, '..', hidden component or NUL" }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    sha256: Sha256,
  },
  { additionalProperties: false },
);

export const JobReport = Type.Object(
  {
    job_id: Type.String({ minLength: 1, maxLength: 128, description: "The job's id in Vigie (its deposit directory's name)" }),
    run_id: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$', description: 'Unique per job; a run already processed is never processed again' }),
    status: Type.Enum(['success', 'failure'], { description: "The agent's own verdict on the backup" }),
    message: Type.Optional(Type.String({ maxLength: 4000 })),
    log_tail: Type.Optional(Type.String({ maxLength: 16_000, description: 'The last lines of the backup log, shown in alerts' })),
    started_at: Time,
    finished_at: Time,
    files: Type.Array(ManifestFile, { maxItems: 10_000 }),
    manifest_sha256: Sha256,
  },
  { additionalProperties: false },
);

export const StatusReport = Type.Object(
  {
    schema_version: Type.Literal(1),
    agent: Type.String({ minLength: 1, maxLength: 128, description: "The agent's name, as its directory" }),
    generated_at: Time,
    jobs: Type.Array(JobReport, { maxItems: 1000 }),
  },
  {
    additionalProperties: false,
    $id: 'https://vigie.dev/schemas/backup-status-v1.json',
    title: 'Vigie backup agent STATUS.json',
    description: 'Written last, under a temporary name then renamed, at the root of the agent directory',
  },
);

export type StatusReport = Static<typeof StatusReport>;
export type JobReport = Static<typeof JobReport>;
export type ManifestEntry = Static<typeof ManifestFile>;

/** The schema as a plain JSON document (what the route serves and the repository keeps). */
export const statusJsonSchema = (): Record<string, unknown> => ({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...(JSON.parse(JSON.stringify(StatusReport)) as Record<string, unknown>) });

/** Largest STATUS.json read: 1,000 jobs of reasonable manifests. */
export const MAX_STATUS_BYTES = 16 * 1024 * 1024;

export type ParsedReport = { ok: true; report: StatusReport } | { ok: false; problems: string[] };

export function parseStatusReport(text: string): ParsedReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`STATUS.json is not JSON: ${(error as Error).message}`] };
  }
  if (Value.Check(StatusReport, value)) return { ok: true, report: value };
  const issues = [...Value.Errors(StatusReport, value)] as { instancePath: string; message?: string }[];
  return { ok: false, problems: issues.slice(0, 20).map((issue) => `${issue.instancePath || '/'}: ${issue.message ?? 'invalid'}`) };
}

/**
 * The manifest checksum: SHA-256 of one line `<sha256> <size> <path>\n` per file, sorted by path
 * (by code points, as JavaScript sorts strings), in UTF-8. It proves the report's file list
 * arrived whole and unchanged; each file's own hash proves its content.
 */
export function manifestSha256(files: readonly ManifestEntry[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.sha256} ${f.size} ${f.path}\n`);
  return createHash('sha256').update(lines.join(''), 'utf8').digest('hex');
}

export const parseTime = (iso: string): number | null => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};
