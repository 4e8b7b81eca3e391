/**
 * The series store's read API: `GET /api/v1/series` (filtered by machine, name, type, labels),
 * `GET /api/v1/series/{id}`, `GET /api/v1/series/{id}/points` (resolution chosen by the range,
 * or forced by `step`; `format=json|csv|jsonl` downloads the same data as a file) and
 * `GET /api/v1/series/export` (several series in one streamed file).
 */
import { Readable } from 'node:stream';
import { Type, type TSchema } from 'typebox';
import { ValidationError } from '../errors.js';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, Nullable, NullableTimestamp, pagingQuery, Timestamp, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, encodeExport, exportFilename, pointsResponse, seriesResponse, type ExportFormat } from '../metrics/export-format.js';
import type { SeriesFilter } from '../metrics/series.repository.js';
import type { PointsResult } from '../metrics/series.service.js';
import { SERIES_TYPES, type SeriesType } from '../metrics/series-types.js';
import type { SeriesService } from '../metrics/series.service.js';

const SeriesValue = Type.Union([Type.Number(), Type.Boolean(), Type.String()]);

const SeriesIdentity = {
  id: Type.Integer({ description: 'Series id' }),
  machine_id: Uuid,
  hostname: Type.String(),
  name: Type.String(),
  type: Type.Enum([...SERIES_TYPES]),
  unit: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
};

const SeriesResponse = Type.Object({
  ...SeriesIdentity,
  last_value: Nullable(SeriesValue),
  last_at: NullableTimestamp,
  created_at: Timestamp,
});

const Page = Type.Object({ items: Type.Array(SeriesResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

const ValuePoint = Type.Object({ t: Timestamp, value: SeriesValue });

const Point = Type.Object(
  {
    t: Type.String({ description: 'Raw samples and changes: the time; buckets: the start of the bucket' }),
    value: Type.Optional(SeriesValue),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    avg: Type.Optional(Type.Number()),
    count: Type.Optional(Type.Integer()),
    last: Type.Optional(Type.Number({ description: 'The value at the latest time of the bucket' })),
  },
  { description: 'Raw samples and changes: {t, value}; buckets: {t, min, max, avg, count, last}' },
);

const PointsResponse = Type.Object({
  series: Type.Object(SeriesIdentity),
  from: Timestamp,
  to: Timestamp,
  resolution: Type.Enum(['raw', 'minute', 'hour', 'changes'], { description: 'Where the points come from; bool and string series answer their changes' }),
  step_seconds: Nullable(Type.Integer({ description: 'Bucket size; null for raw samples and changes' })),
  initial: Nullable(Type.Object(ValuePoint.properties, { description: 'bool and string series: the change in force at `from` (its time is at or before `from`)' })),
  points: Type.Array(Point),
});

const FilterQuery = {
  machine: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'A machine id or hostname' })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Metric name, exactly' })),
  type: Type.Optional(Type.Enum([...SERIES_TYPES])),
  label: Type.Optional(Type.Array(Type.String({ maxLength: 600 }), { maxItems: 20, description: '`key=value`; repeat it to require several labels' })),
};

const RangeQuery = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601; default: an hour before `to`' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601; default: now' })),
  step: Type.Optional(
    Type.String({
      maxLength: 16,
      description:
        'Omitted: raw samples up to 2 h, minute buckets up to 48 h, hour buckets beyond. `raw`, or a bucket size of whole minutes (`5m`, `1h`, `1d`): forced, refused (422) past 10,000 points',
    }),
  ),
};

const ListQuery = Type.Object({
  ...FilterQuery,
  ...pagingQuery(50),
});

const PointsQuery = Type.Object({
  ...RangeQuery,
  format: Type.Optional(Type.Enum([...EXPORT_FORMATS], { description: 'Download the points as a file in this format' })),
});

const ExportQuery = Type.Object({
  ...FilterQuery,
  ...RangeQuery,
  format: Type.Enum([...EXPORT_FORMATS], { default: 'json' }),
});

/** Any text: an id that is not an integer is a series that does not exist (404), not a malformed request. */
const SeriesParams = Type.Object({ id: Type.String({ maxLength: 40, description: 'Series id (an integer)' }) });

function filterOf(query: { machine?: string; name?: string; type?: string; label?: string[] }): SeriesFilter {
  const labels = (query.label ?? []).map((pair, i) => {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw ValidationError.field(['query', 'label', i], `expected key=value, got "${pair}"`);
    return [pair.slice(0, cut), pair.slice(cut + 1)] as const;
  });
  return { machine: query.machine, name: query.name, type: query.type as SeriesType | undefined, labels };
}

/** A JSON answer that `format` may turn into a CSV or JSON Lines file: each under its media type. */
function exportResponse(json: TSchema, description: string) {
  const content = Object.fromEntries(EXPORT_FORMATS.map((format) => [EXPORT_CONTENT_TYPES[format].split(';')[0]!, { schema: format === 'json' ? json : Type.String() }]));
  return { description, content };
}

function stream(format: ExportFormat, results: AsyncIterable<PointsResult>): Readable {
  return Readable.from(encodeExport(format, results), { objectMode: false });
}

async function* only(result: PointsResult) {
  yield result;
}

export function registerSeriesRoutes(app: VigieApp, services: { readonly series: SeriesService }): void {
  const tags = ['series'];

  app.get(
    '/api/v1/series',
    {
      config: { access: 'read' },
      schema: { tags, summary: "Agents' metric series, filtered and paginated, with their latest value", querystring: ListQuery, response: { 200: Page, ...errorResponses(401, 403, 422) } },
    },
    async (request) => {
      const q = request.query;
      const page = await services.series.list(actorOf(request).tenantId, filterOf(q), { limit: q.limit, offset: q.offset });
      return { items: page.items.map(seriesResponse), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/series/export',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Points of every matching series (at most 1,000) as one file: json, csv or jsonl, streamed',
        querystring: ExportQuery,
        response: {
          200: exportResponse(Type.Array(PointsResponse), 'json: an array of points answers; csv and jsonl: one row per point with the series on each row'),
          ...errorResponses(401, 403, 422),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const selection = await services.series.exportSelection(actorOf(request).tenantId, filterOf(q), { from: fromIso(q.from), to: fromIso(q.to), step: q.step });
      const format = q.format as ExportFormat;
      reply
        .header('content-type', EXPORT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${exportFilename('series', selection.range.from, selection.range.to, format)}"`)
        .header('x-vigie-series-count', String(selection.seriesCount));
      return reply.send(stream(format, selection.results()));
    },
  );

  app.get(
    '/api/v1/series/:id',
    { config: { access: 'read' }, schema: { tags, summary: 'One series with its latest value', params: SeriesParams, response: { 200: SeriesResponse, ...errorResponses(401, 403, 404) } } },
    async (request) => seriesResponse(await services.series.get(actorOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/api/v1/series/:id/points',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "A series' points over a time range: raw samples, minute or hour buckets, or a bool/string series' changes",
        params: SeriesParams,
        querystring: PointsQuery,
        response: { 200: exportResponse(PointsResponse, 'The points; with `format`, as a file of that format'), ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const result = await services.series.points(actorOf(request).tenantId, request.params.id, { from: fromIso(q.from), to: fromIso(q.to), step: q.step });
      reply.header('x-vigie-resolution', result.resolution);
      if (q.format === undefined) return pointsResponse(result);
      const format = q.format as ExportFormat;
      reply
        .header('content-type', EXPORT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${exportFilename(`series-${result.series.id}`, result.from, result.to, format)}"`);
      if (format === 'json') return pointsResponse(result);
      // A file body, not the JSON schema's object: the typed reply does not know streams.
      return reply.send(stream(format, only(result)) as never);
    },
  );
}
