/**
 * Requests for one OpenAPI operation, as fast-check arbitraries: its path, query and header
 * parameters and its JSON body, from their schemas (schema-arbitrary.ts), with path ids taken
 * most of the time from real rows (so that the route gets past its lookup), and a credential.
 */
import fc from 'fast-check';
import { DEEP_JSON, schemaArbitrary, toJson, type Resolve, type Schema } from './schema-arbitrary.js';

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  /** The JSON body schema, when the operation takes one. */
  body?: Schema;
  bodyRequired: boolean;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  credential: string;
}

/** Values of path parameters that name real rows, by `path` then parameter name. */
export type KnownValues = (path: string, parameter: string) => readonly string[];

export type Credentials = Record<string, Record<string, string>>;

const HOSTILE_TEXT = ['', '0', '-1', '9223372036854775808', '1e30', '-1e30', 'NaN', 'true', 'null', '[]', '%', 'é', '😀', 'x'.repeat(2_000), '../etc', ' '];

/** A parameter's value as it travels in a URL or a header: text, at most 8,000 characters. */
function asText(value: unknown): string {
  if (value === DEEP_JSON) return '{"a":'.repeat(1_000);
  if (typeof value === 'string') return value.slice(0, 8_000);
  if (value === null || value === undefined) return '';
  return (typeof value === 'object' ? JSON.stringify(value) : String(value as number | boolean)).slice(0, 8_000);
}

/** Header values a real client can send: printable ASCII. */
const headerSafe = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 4_000);

/**
 * A path segment that stays one segment, never `.`/`..` (which a client would resolve), in
 * UTF-8 (a lone surrogate, which no URL can carry, becomes U+FFFD).
 */
function pathSegment(text: string): string {
  const safe = text === '' || text === '.' || text === '..' ? 'x' : text;
  return encodeURIComponent(Buffer.from(safe, 'utf8').toString('utf8'));
}

function parameterArbitrary(parameter: Parameter, resolve: Resolve, known: readonly string[]): fc.Arbitrary<string | string[] | undefined> {
  const schema = resolve(parameter.schema);
  const fromSchema = schemaArbitrary(schema, { resolve, fuzz: true });
  const text: fc.Arbitrary<string | string[]> = fromSchema.map((value) => (Array.isArray(value) ? value.map(asText) : asText(value)));
  const choices: fc.WeightedArbitrary<string | string[] | undefined>[] = [
    { arbitrary: text, weight: 4 },
    { arbitrary: fc.constantFrom(...HOSTILE_TEXT), weight: 1 },
  ];
  if (known.length) choices.push({ arbitrary: fc.constantFrom(...known), weight: 10 });
  if (parameter.in !== 'path') choices.push({ arbitrary: fc.constant(undefined), weight: parameter.required && schema.default === undefined ? 1 : 4 });
  return fc.oneof(...choices);
}

/** The JSON body: mostly one the schema accepts, else fuzzed, now and then not JSON at all. */
function bodyArbitrary(operation: Operation, resolve: Resolve): fc.Arbitrary<{ payload?: string; contentType?: string }> {
  // Clients such as Healthchecks' send `Content-Type: application/json` with no body at all.
  if (!operation.body)
    return operation.method === 'GET' ? fc.constant({}) : fc.oneof({ arbitrary: fc.constant({}), weight: 9 }, { arbitrary: fc.constant({ payload: '', contentType: 'application/json' }), weight: 1 });
  const json = (value: unknown) => ({ payload: toJson(value), contentType: 'application/json' });
  return fc.oneof(
    { arbitrary: schemaArbitrary(operation.body, { resolve, fuzz: false }).map(json), weight: 4 },
    { arbitrary: schemaArbitrary(operation.body, { resolve, fuzz: true }).map(json), weight: 5 },
    { arbitrary: fc.constantFrom({ payload: '{"a":', contentType: 'application/json' }, { payload: 'name=x', contentType: 'text/xml' }, { payload: '', contentType: 'application/json' }), weight: 1 },
    ...(operation.bodyRequired ? [] : [{ arbitrary: fc.constant({}), weight: 1 }]),
  );
}

export function requestArbitrary(operation: Operation, resolve: Resolve, known: KnownValues, credentials: Credentials, credentialWeights: Record<string, number>): fc.Arbitrary<FuzzRequest> {
  const parameters = operation.parameters.filter((p) => p.in !== 'cookie');
  const values = fc.tuple(...parameters.map((p) => parameterArbitrary(p, resolve, p.in === 'path' ? known(operation.path, p.name) : [])));
  const credential = fc.oneof(...Object.entries(credentialWeights).map(([name, weight]) => ({ arbitrary: fc.constant(name), weight })));
  return fc.tuple(values, bodyArbitrary(operation, resolve), credential).map(([vals, body, who]) => {
    let url = operation.path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = { ...credentials[who] };
    parameters.forEach((parameter, i) => {
      const value = vals[i];
      if (value === undefined) return;
      if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, pathSegment([value].flat()[0] ?? ''));
      else if (parameter.in === 'query') for (const one of [value].flat()) query.append(parameter.name, one);
      else headers[parameter.name] = headerSafe([value].flat()[0] ?? '');
    });
    const search = query.toString();
    if (body.contentType) headers['content-type'] = body.contentType;
    return { method: operation.method, url: search ? `${url}?${search}` : url, headers, payload: body.payload, credential: who };
  });
}
