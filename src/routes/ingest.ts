/**
 * `POST /api/v1/ingest/metrics`, seed 000's agent ingestion: `X-API-Key` (scope full or ingest)
 * and `X-Ingest-Id` (a UUID naming the batch), a JSON body of a machine and its metrics.
 *
 * Idempotent: the answer is `200` with `{ingest_id, machine_id, accepted, received_at,
 * duplicate}`, sent once the batch is committed; the same X-Ingest-Id again (also while the
 * first is being written) stores nothing and gets the first answer back with `duplicate: true`,
 * for METRICS_INGEST_ID_TTL_HOURS. 200, not 202: by the time the agent reads the answer, its
 * batch is stored; there is nothing left to accept.
 *
 * Errors: 422 with `loc` naming the header or the item (`["body", "metrics", 3, "value"]`),
 * 413 over INGEST_BODY_LIMIT_BYTES, 400 for a body nested deeper than BODY_MAX_DEPTH, 401 without
 * a key, 403 for a key without the ingest scope.
 * The body is parsed and checked by the body checker (metrics/ingest/body-checker.ts, in a worker
 * thread; INGEST_PARSE_THREADS), not by fastify's parser and the JSON schema below, which
 * describes it for the OpenAPI document.
 */
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ValidationError } from '../errors.js';
import { actorOf } from '../http/access.js';
import { JsonTooDeepError } from '../http/json-depth.js';
import { errorResponses, Nullable, Timestamp, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { createIngestBodyChecker } from '../metrics/ingest/body-checker.js';
import { LABEL_KEY, MAX_LABELS, MAX_STRING_VALUE_CHARS, MAX_UNIT_CHARS, METRIC_NAME } from '../metrics/ingest/ingest-body.js';
import { SERIES_TYPES } from '../metrics/series-types.js';
import type { IngestWriter } from '../metrics/ingest/ingest-writer.js';
import { HOUR_MS } from '../metrics/buckets.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const IngestHeaders = Type.Object({
  'x-ingest-id': Type.String({ format: 'uuid', description: 'Names the batch; the same id again is answered as a duplicate and stores nothing' }),
});

function ingestBodySchema(maxMetrics: number) {
  const Metric = Type.Object(
    {
      name: Type.String({ pattern: METRIC_NAME.source }),
      type: Type.Enum([...SERIES_TYPES]),
      value: Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: MAX_STRING_VALUE_CHARS })], {
        description: 'A finite number (numeric), true/false (bool) or a string (string), as `type` says',
      }),
      unit: Type.Optional(Nullable(Type.String({ maxLength: MAX_UNIT_CHARS }))),
      labels: Type.Optional(
        Type.Record(Type.String({ pattern: LABEL_KEY.source }), Type.String(), { maxProperties: MAX_LABELS, description: 'Name and labels together name a series; their order does not matter' }),
      ),
      ts: Type.Optional(
        Type.Union([Type.String({ format: 'date-time' }), Type.Integer({ description: 'Epoch milliseconds' })], {
          description: 'When the value was measured: ISO 8601 with a time zone or epoch milliseconds; absent: when the server received the batch',
        }),
      ),
    },
    { additionalProperties: false },
  );
  return Type.Object(
    {
      machine: Type.Object(
        {
          hostname: Type.String({ minLength: 1, maxLength: 253, description: 'With the tenant, names the machine; its first batch registers it' }),
          os: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
          tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, description: "The machine monitor's tags (absent: unchanged)" })),
        },
        { additionalProperties: true, description: "Any other field is kept as the machine's info" },
      ),
      metrics: Type.Array(Metric, { maxItems: maxMetrics, description: 'At most INGEST_MAX_METRICS' }),
      sent_at: Type.Optional(Nullable(Timestamp)),
    },
    { additionalProperties: false },
  );
}

const IngestResponse = Type.Object({
  ingest_id: Uuid,
  machine_id: Uuid,
  accepted: Type.Integer({ description: 'Metrics stored from this batch' }),
  received_at: Timestamp,
  duplicate: Type.Boolean({ description: 'True when this ingest id was already stored: nothing was stored again, this is the first answer' }),
});

export function registerIngestRoutes(app: VigieApp, services: { readonly ingest: IngestWriter }, { config, clock }: { config: Config; clock: Clock }): void {
  const { ingestMaxMetrics, ingestBodyLimitBytes, ingestParseThreads, metricsIngestIdTtlHours, bodyMaxDepth } = config;

  app.register(async (scope) => {
    // The app's 413 names the app-wide limit; this route has its own.
    scope.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
      return reply.status(413).send({
        detail: `Request body is larger than the ingest limit of ${ingestBodyLimitBytes} bytes (INGEST_BODY_LIMIT_BYTES); send the metrics in several requests`,
      });
    });

    // The body arrives as text and is parsed and checked by the body checker (in a worker
    // thread: body-checker.ts), not by fastify's JSON parser and schema validator.
    const bodyChecker = createIngestBodyChecker({ maxMetrics: ingestMaxMetrics, maxDepth: bodyMaxDepth, threads: ingestParseThreads });
    scope.addHook('onClose', () => bodyChecker.close());
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: ingestBodyLimitBytes }, (_request, text, done) => done(null, text));

    scope.post(
      '/api/v1/ingest/metrics',
      {
        config: { access: 'ingest' },
        bodyLimit: ingestBodyLimitBytes,
        // No access log line per batch (agents post all the time); failures are still logged.
        logLevel: 'warn',
        // The body is checked by the body checker in the handler; the header before it, in preValidation.
        validatorCompiler: () => () => true,
        preValidation: async (request) => {
          const id = request.headers['x-ingest-id'];
          if (id === undefined) throw ValidationError.field(['header', 'x-ingest-id'], 'Header X-Ingest-Id is required: a UUID naming the batch, the same on every retry', 'missing');
          if (typeof id !== 'string' || !UUID.test(id))
            throw ValidationError.field(['header', 'x-ingest-id'], 'Header X-Ingest-Id must be a UUID (e.g. 11111111-1111-1111-1111-111111111111)', 'uuid_parsing');
        },
        schema: {
          tags: ['metrics'],
          summary: 'Ingest an agent batch of metrics (idempotent by X-Ingest-Id)',
          description:
            'Stores the metrics of one machine; the machine is registered by its first batch. Answered once stored. ' +
            `The same X-Ingest-Id within ${metricsIngestIdTtlHours} h gets the first answer back with duplicate=true and stores nothing. ` +
            `Body at most ${ingestBodyLimitBytes} bytes, at most ${ingestMaxMetrics} metrics.`,
          headers: IngestHeaders,
          body: ingestBodySchema(ingestMaxMetrics),
          response: { 200: IngestResponse, ...errorResponses(400, 401, 403, 413, 415, 422) },
        },
      },
      async (request) => {
        const checked = await bodyChecker.check(request.body as unknown as string, clock.now());
        if (!checked.ok) throw 'tooDeep' in checked ? new JsonTooDeepError(checked.tooDeep) : new ValidationError(checked.problems);
        const batch = checked.batch;
        return services.ingest.submit({
          tenantId: actorOf(request).tenantId,
          ingestId: (request.headers['x-ingest-id'] as string).toLowerCase(),
          expiresAt: batch.receivedAt + metricsIngestIdTtlHours * HOUR_MS,
          batch,
        });
      },
    );
  });
}
