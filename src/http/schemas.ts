/** Schemas shared by many routes. Route-specific schemas live beside their route. */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'A UUID' });

export const IdParams = Type.Object({ id: Uuid });

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 time in UTC' });

export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/**
 * `schema` or null. Written as a type list (`type: ["integer", "null"]`), not `anyOf`: the app's
 * validator coerces types, and with `anyOf` it tried the first branch first, coercing a `null`
 * sent by the client into 0, "" or false before the null branch could match (a PATCH setting a
 * field back to "inherit" stored 0 instead). A type list is coerced only when no type matches.
 * Schemas without a single `type` (enums, unions, references) keep the `anyOf` form.
 */
export const Nullable = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> => {
  const plain = schema as unknown as { type?: unknown; enum?: unknown[] };
  if (typeof plain.type === 'string') return Type.Unsafe<Static<T> | null>({ ...schema, type: [plain.type, 'null'], ...(plain.enum && { enum: [...plain.enum, null] }) });
  if (plain.enum) return Type.Unsafe<Static<T> | null>({ ...schema, enum: [...plain.enum, null] });
  return Type.Unsafe<Static<T> | null>(Type.Union([schema, Type.Null()]));
};

export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

/** An optional (and maybe nullable) date-time field, already validated by its schema, as epoch ms. */
export function fromIso(value: string): number;
export function fromIso(value: string | undefined): number | undefined;
export function fromIso(value: string | null | undefined): number | null | undefined;
export function fromIso(value: string | null | undefined): number | null | undefined {
  return value === undefined || value === null ? value : Date.parse(value);
}

/**
 * The one error shape (FastAPI's): `detail` is a message, a list of field problems (422), or an
 * object with extra fields such as `existing_id` (409).
 */
export const ErrorResponse = Type.Object(
  {
    detail: Type.Union([
      Type.String(),
      Type.Array(
        Type.Object({
          loc: Type.Array(Type.Union([Type.String(), Type.Number()])),
          msg: Type.String(),
          type: Type.String(),
        }),
      ),
      Type.Object({}, { additionalProperties: true }),
    ]),
    request_id: Type.Optional(Type.String()),
    error: Type.Optional(Type.String({ description: 'Healthchecks API v3 routes only: the message where Healthchecks clients read it' })),
  },
  { $id: 'ErrorResponse', description: 'Every error has this shape.' },
);

const errorRef = Type.Unsafe({ $ref: 'ErrorResponse#' });

/** The error responses a route can give, for its OpenAPI description. */
export function errorResponses(...codes: (400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 422 | 429 | 503)[]) {
  return Object.fromEntries(codes.map((code) => [code, errorRef]));
}

/**
 * A response that is not JSON (pings' "OK", SVG badges, Prometheus' text format), under its real
 * media type in the OpenAPI document. Fastify sends a string body as it is, whatever the schema.
 */
export function mediaResponse(mediaType: string, schema: TSchema, description: string) {
  return { description, content: { [mediaType]: { schema } } };
}

export const textResponse = (text: string) => mediaResponse('text/plain', Type.String({ description: text }), text);

export const NoContent = Type.Null({ description: 'No content' });

/** The largest `offset` a list route takes: unbounded, 2^63 or 1e30 reached the database, which refused them (500). */
export const MAX_OFFSET = 1_000_000;
export const MAX_PAGE_LIMIT = 500;

/** `limit` and `offset` of every list route's query, bounded so that any value out of range is a 422. */
export const pagingQuery = (defaultLimit: number) => ({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: defaultLimit, description: `At most ${MAX_PAGE_LIMIT} items` }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: `Items to skip, at most ${MAX_OFFSET.toLocaleString('en-US')}` }),
});
