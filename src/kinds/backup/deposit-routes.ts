/**
 * The HTTP deposit routes (seed 001, for agents that cannot rsync), with an `ingest` permission
 * (an ingest-scope or full API key; the tenant is the key's):
 * - `PUT /api/v1/backup-jobs/{id}/runs/{run_id}/files/{path}`: the file's bytes as the body,
 *   `X-Content-SHA256` its SHA-256; streamed to disk and hashed on the way (upload.ts). The body is
 *   never parsed or held: this route's scope passes the raw stream through for every content type,
 *   so the app's body limit does not apply; BACKUP_UPLOAD_MAX_BYTES does, while it streams.
 * - `POST /api/v1/backup-jobs/{id}/runs/{run_id}/report`: the run's STATUS.json entry (without
 *   job_id and run_id), written into the agent's STATUS.json for the scanner.
 */
import { Type, type Static } from 'typebox';
import { actorOf } from '../../http/access.js';
import { holdToProgress, lingerAfterRefusal } from '../../http/long-upload.js';
import { errorResponses, Uuid } from '../../http/schemas.js';
import type { VigieApp } from '../../http/types.js';
import type { KindRouteDeps } from '../contract.js';
import { createDepositService } from './deposit.service.js';
import { JobReport, ManifestFile } from './status-report.js';
import { expectedSha256Of } from './upload.js';
import { zonesOf } from './zones.js';

const RunParams = {
  id: Uuid,
  run_id: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$', description: "The agent's run id: unique per job (letters, digits, ._-)" }),
};
const FileParams = Type.Object({
  ...RunParams,
  '*': Type.String({ description: "The file's path relative to the job's deposit directory, as in the manifest (slashes allowed; no '..', hidden component, NUL or control character)" }),
});
const UploadHeaders = Type.Object({
  'x-content-sha256': Type.String({
    pattern: '^[0-9a-fA-F]{64}$',
    minLength: 64,
    maxLength: 64,
    description: "The file's SHA-256 in hexadecimal; a body with another hash is refused (422) and nothing is kept",
  }),
});
const StoredFile = Type.Object({ path: Type.String(), size: Type.Integer({ description: 'Bytes received' }), sha256: Type.String({ description: 'SHA-256 of the bytes received' }) });

/** Exactly 64 characters, said twice (length and pattern) so that generated examples fit too. */
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64, description: 'Lower-case hexadecimal SHA-256' });
const { status, message, log_tail, started_at, finished_at } = JobReport.properties;
const ReportBody = Type.Object(
  {
    status,
    message,
    log_tail,
    started_at,
    finished_at,
    files: Type.Array(Type.Object({ path: ManifestFile.properties.path, size: ManifestFile.properties.size, sha256: Sha256 }, { additionalProperties: false }), {
      maxItems: 10_000,
    }),
    manifest_sha256: Sha256,
  },
  { additionalProperties: false, description: "The run's STATUS.json entry; job_id and run_id come from the URL" },
);
const AcceptedReport = Type.Object({
  job_id: Uuid,
  run_id: Type.String(),
  file_count: Type.Integer(),
  total_size: Type.Integer({ description: 'Bytes the report lists' }),
  detail: Type.String(),
});

export function registerDepositRoutes(app: VigieApp, deps: KindRouteDeps): void {
  const deposit = createDepositService({ db: deps.db, zones: zonesOf(deps.config), maxBytes: deps.config.backupUploadMaxBytes });
  const tags = ['backups'];

  app.register(async (scope) => {
    // Any content type (curl -T sends none, others octet-stream): the stream reaches the handler untouched.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // A refusal before the body is read (404, 409, 413 on Content-Length): the body is read and
    // discarded a little longer, then the connection cut (lingerAfterRefusal says why).
    scope.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode >= 400) lingerAfterRefusal(request.raw);
    });
    scope.put(
      '/api/v1/backup-jobs/:id/runs/:run_id/files/*',
      {
        config: { access: 'ingest' },
        // The header is checked first, with a message that says what to send.
        preValidation: async (request) => {
          expectedSha256Of(request.headers['x-content-sha256']);
        },
        schema: {
          tags,
          summary: "Upload one file of a run into the job's deposit directory (HTTP deposit, seed 001)",
          description:
            "The body is the file's bytes (any content type; application/octet-stream is usual), streamed to disk and hashed as it arrives. " +
            'Stored under a temporary dot-name the scanner ignores, fsynced, then renamed to its path. ' +
            `A SHA-256 other than X-Content-SHA256: 422, nothing kept. Larger than BACKUP_UPLOAD_MAX_BYTES (${deps.config.backupUploadMaxBytes} bytes): 413, nothing kept. ` +
            'A run already processed: 409. Then POST the report.',
          params: FileParams,
          headers: UploadHeaders,
          body: { content: { 'application/octet-stream': { schema: { description: "The file's bytes" } } } },
          response: { 201: StoredFile, ...errorResponses(401, 403, 404, 409, 413, 422) },
        },
      },
      async (request, reply) => {
        const params = request.params as Static<typeof FileParams>; // the plugin scope is not TypeBox-typed
        const length = request.headers['content-length'];
        // Gigabytes over a slow link outlive REQUEST_TIMEOUT_SECONDS: a progress rule instead.
        const release = holdToProgress(request.raw, deps.config.requestTimeoutSeconds * 1000);
        try {
          const stored = await deposit.upload(actorOf(request).tenantId, params.id, params.run_id, {
            path: params['*'],
            body: request.raw,
            expectedSha256: expectedSha256Of(request.headers['x-content-sha256']),
            ...(length !== undefined && /^\d+$/.test(length) && { declaredLength: Number(length) }),
          });
          return await reply.status(201).send(stored);
        } finally {
          release();
        }
      },
    );
  });

  app.post(
    '/api/v1/backup-jobs/:id/runs/:run_id/report',
    {
      config: { access: 'ingest' },
      schema: {
        tags,
        summary: "Report a run: its entry is written into the agent's STATUS.json for the scanner (HTTP deposit, seed 001)",
        description:
          'Send it last, after every file. The body is the STATUS.json entry of the run (status, message, log_tail, started_at, finished_at, files, manifest_sha256). ' +
          'The scanner then validates and promotes the run exactly as an rsync deposit; follow it with GET /api/v1/backup-jobs/{id}/runs. ' +
          'A run already processed, or another run of the job still waiting for the scanner: 409.',
        params: Type.Object(RunParams),
        body: ReportBody,
        response: { 202: AcceptedReport, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const accepted = await deposit.report(actorOf(request).tenantId, request.params.id, request.params.run_id, request.body, new Date(deps.clock.now()));
      return reply.status(202).send({
        job_id: accepted.jobId,
        run_id: accepted.runId,
        file_count: accepted.fileCount,
        total_size: accepted.totalSize,
        detail: `Run ${accepted.runId} is in the agent's STATUS.json; the scanner takes it within BACKUP_SCAN_SECONDS once it has settled (BACKUP_SETTLE_SECONDS)`,
      });
    },
  );
}
