/**
 * fast-check arbitraries from the JSON schemas of an OpenAPI 3.0 document (the subset that
 * @fastify/swagger writes from TypeBox): values the schema accepts, at and inside its bounds,
 * and, when fuzzing, hostile ones mixed in at any depth (wrong types, values past the bounds,
 * huge numbers, long and odd unicode strings, deep nesting, missing and extra fields).
 */
import fc from 'fast-check';
import { boundedFilter } from './bounded-filter.js';

export type Schema = Record<string, unknown>;
/** Follows `#/components/schemas/...` references of the document. */
export type Resolve = (schema: Schema) => Schema;

/** Depth past which objects only get their required fields, so that values stay small. */
const MAX_DEPTH = 5;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** A value nested `depth` levels deep. */
export function nested(depth: number, inArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = inArray ? [value] : { a: value };
  return value;
}

/**
 * Stands for JSON nested 10,000 deep, which would blow the fuzzer's own stack before the
 * server's: `toJson` writes the deep text where this string is.
 */
export const DEEP_JSON = '\u0000deep-json\u0000';
const DEEP_TEXT = `${'{"a":['.repeat(5_000)}1${']}'.repeat(5_000)}`;

/** The JSON text of a generated value, with DEEP_JSON replaced by the deep text. */
export const toJson = (value: unknown): string => JSON.stringify(value).replaceAll(JSON.stringify(DEEP_JSON), DEEP_TEXT);

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\uD800',
  'é',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 😀',
  '\u202Eevil',
  '../../../etc/passwd',
  "'; DROP TABLE monitors; --",
  '%00%ff',
  '{"$ne":null}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'a'.repeat(10_000),
  'é'.repeat(5_000),
];
const HUGE_NUMBERS = [2 ** 63, -(2 ** 63), 2 ** 53 + 2, 1e30, -1e30, 1e308, -1, 0, 0.5, -0.000001];

/** Any JSON value of the wrong kind, and the classic troublemakers. */
function hostileAny(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, [], {}, '', 'x', 0, -1, 1.5),
    fc.constantFrom(...HUGE_NUMBERS),
    fc.constantFrom(...ODD_STRINGS),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(nested(64, false), nested(64, true), nested(1_000, false), DEEP_JSON),
    fc.constant(Array.from({ length: 5_000 }, (_, i) => i)),
    fc.constant(Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, i]))),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

/** Values just past the schema's bounds. */
function pastBounds(schema: Schema): unknown[] {
  const values: unknown[] = [];
  const minimum = num(schema.minimum);
  const maximum = num(schema.maximum);
  if (minimum !== undefined) values.push(minimum - 1, minimum - 0.5);
  if (maximum !== undefined) values.push(maximum + 1, maximum + 0.5);
  const minLength = num(schema.minLength);
  const maxLength = num(schema.maxLength);
  if (minLength !== undefined && minLength > 0) values.push('a'.repeat(minLength - 1));
  if (maxLength !== undefined) values.push('a'.repeat(maxLength + 1), '😀'.repeat(maxLength + 1));
  const maxItems = num(schema.maxItems);
  if (maxItems !== undefined) values.push(Array.from({ length: maxItems + 1 }, () => 'x'));
  if (Array.isArray(schema.enum)) values.push('not-one-of-them', String(schema.enum[0]).toUpperCase());
  return values;
}

function hostile(schema: Schema): fc.Arbitrary<unknown> {
  const near = pastBounds(schema);
  return near.length ? fc.oneof({ arbitrary: fc.constantFrom(...near), weight: 1 }, { arbitrary: hostileAny(), weight: 2 }) : hostileAny();
}

export interface ArbitraryOptions {
  resolve: Resolve;
  /** Mix hostile values in at every level. */
  fuzz: boolean;
}

/** Values for `schema`: valid ones, or with hostile ones mixed in when `fuzz` is set. */
export function schemaArbitrary(schema: Schema, options: ArbitraryOptions, depth = 0): fc.Arbitrary<unknown> {
  const resolved = options.resolve(schema);
  const valid = validArbitrary(resolved, options, depth);
  return options.fuzz ? fc.oneof({ arbitrary: valid, weight: 9 }, { arbitrary: hostile(resolved), weight: 1 }) : valid;
}

function validArbitrary(schema: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const base = nonNullArbitrary(schema, options, depth);
  return schema.nullable === true ? fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 }) : base;
}

function nonNullArbitrary(schema: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches?.length) return fc.oneof(...branches.map((branch) => schemaArbitrary(branch, options, depth)));
  if (Array.isArray(schema.allOf)) return schemaArbitrary(Object.assign({}, ...(schema.allOf as Schema[]).map(options.resolve)) as Schema, options, depth);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [schema.type as string] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => nonNullArbitrary({ ...schema, type }, options, depth)));
  switch (types[0]) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return numberArbitrary(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return arrayArbitrary(schema, options, depth);
    case 'object':
      return objectArbitrary(schema, options, depth);
    default:
      return options.fuzz ? fc.oneof({ arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 5 }, { arbitrary: fc.constant<unknown>(DEEP_JSON), weight: 1 }) : fc.jsonValue({ maxDepth: 2 });
  }
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const pattern = str(schema.pattern);
  // Free strings are kept under 40 characters past the minimum, to stay small; a pattern says
  // itself how long its matches are (a SHA-256 needs 64), so only the schema's maxLength bounds it.
  const maxLength = num(schema.maxLength) ?? (pattern ? Infinity : minLength + 40);
  const fits = (s: string) => [...s].length >= minLength && [...s].length <= maxLength;
  const fitting = (arbitrary: fc.Arbitrary<string>) =>
    boundedFilter(arbitrary, fits, () => `no string of ${minLength} to ${maxLength} characters could be generated for the schema ${JSON.stringify(schema)}`);
  const format = str(schema.format);
  if (format === 'uuid') return fc.uuid();
  if (format === 'date-time') return fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  if (format === 'email') return fitting(fc.emailAddress());
  if (format === 'uri') return fitting(fc.webUrl({ withQueryParameters: true }));
  if (pattern) return fitting(fc.stringMatching(new RegExp(pattern)));
  const upTo = Math.min(maxLength, minLength + 40);
  return fc.oneof(fc.string({ minLength, maxLength: upTo }), fitting(fc.string({ minLength, maxLength: upTo, unit: 'grapheme' })), fitting(fc.constant('x'.repeat(maxLength))));
}

function integerArbitrary(schema: Schema): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? (num(schema.exclusiveMinimum) !== undefined ? num(schema.exclusiveMinimum)! + 1 : undefined);
  const max = num(schema.maximum) ?? (num(schema.exclusiveMaximum) !== undefined ? num(schema.exclusiveMaximum)! - 1 : undefined);
  const low = min ?? Number.MIN_SAFE_INTEGER;
  const high = max ?? Number.MAX_SAFE_INTEGER;
  // Bounds themselves, and huge values where the schema sets no bound.
  return fc.oneof(
    fc.integer({ min: Math.max(low, -(2 ** 31)), max: Math.min(high, 2 ** 31 - 1) }).filter((n) => n >= low && n <= high),
    fc.constantFrom(low, high),
  );
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? num(schema.exclusiveMinimum);
  const max = num(schema.maximum) ?? num(schema.exclusiveMaximum);
  return fc.double({
    min: min ?? -1e12,
    max: max ?? 1e12,
    noNaN: true,
    noDefaultInfinity: true,
    minExcluded: schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.exclusiveMaximum !== undefined,
  });
}

function arrayArbitrary(schema: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown[]> {
  const minLength = num(schema.minItems) ?? 0;
  const maxLength = Math.min(num(schema.maxItems) ?? minLength + 4, minLength + 4);
  const item = schema.items ? schemaArbitrary(schema.items as Schema, options, depth + 1) : fc.jsonValue({ maxDepth: 1 });
  return schema.uniqueItems ? fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) }) : fc.array(item, { minLength, maxLength });
}

function objectArbitrary(schema: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = ((schema.required ?? []) as string[]).filter((key) => key in properties);
  const keys = depth >= MAX_DEPTH ? required : Object.keys(properties);
  const record = fc.record(Object.fromEntries(keys.map((key) => [key, schemaArbitrary(properties[key]!, options, depth + 1)])), { requiredKeys: required });
  const additional = schema.additionalProperties;
  // Free-form fields (a machine's info, labels) are where deep JSON gets stored: fuzzing sends it there.
  const freeForm = options.fuzz ? fc.oneof({ arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 3 }, { arbitrary: fc.constant<unknown>(DEEP_JSON), weight: 1 }) : fc.jsonValue({ maxDepth: 1 });
  const extraValue = typeof additional === 'object' && additional !== null ? schemaArbitrary(additional as Schema, options, depth + 1) : freeForm;
  const extraCount = typeof additional === 'object' || additional === true ? Math.min(num(schema.maxProperties) ?? 3, 3) : 0;
  const extras = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), extraValue, { maxKeys: extraCount });
  const minProperties = num(schema.minProperties) ?? 0;
  let value = fc.tuple(record, extras).map(([known, extra]) => ({ ...extra, ...known }));
  if (minProperties > 0 && Object.keys(properties).length) value = value.filter((o) => Object.keys(o).length >= minProperties);
  if (!options.fuzz) return value;
  // Fuzzing: now and then a required field goes missing or a field nobody declared comes along.
  return fc.tuple(value, fc.nat(9), fc.constantFrom<unknown>('extra', 1, null, { deep: nested(32, false) }, DEEP_JSON)).map(([object, roll, extra]) => {
    if (roll === 0 && required.length) {
      const { [required[0]!]: _dropped, ...rest } = object;
      return rest;
    }
    return roll === 1 ? { ...object, unexpected_field: extra } : object;
  });
}
