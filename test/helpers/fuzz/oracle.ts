/**
 * What every answer must be, whatever the request: not a 5xx, a status its operation declares,
 * in a content type declared for that status, a JSON body valid against the declared schema
 * (ajv, the validator Fastify itself uses), and no stack trace or source path in the body.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { Operation } from './requests.js';

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** Frames of a stack trace and paths of source files. */
const STACK_TRACE = /\bat (?:async )?[\w$.<>]+ \(|\bat (?:file:\/\/)?\/[\w/.-]+:\d+|(?:\/work\/|\/src\/|node_modules\/)[\w/.-]*\.[cm]?[jt]s\b|\.[cm]?[jt]s:\d+:\d+/;

const mediaTypeOf = (contentType: unknown) => (typeof contentType === 'string' ? contentType : '').split(';')[0]!.trim().toLowerCase();

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin }).default ?? addFormatsPlugin) as unknown as (ajv: Ajv) => Ajv;

export function createOracle(document: Record<string, unknown>) {
  // The document is one schema to ajv: `#/components/schemas/…` references resolve inside it.
  // OpenAPI's own words (`nullable`, `example`…) are not JSON Schema: not strict.
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi');
  const validators = new Map<string, ValidateFunction>();

  const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

  function validator(operation: Operation, status: string, mediaType: string): ValidateFunction {
    const key = `${operation.method} ${operation.path} ${status} ${mediaType}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi#/${pointer('paths', operation.path, operation.method.toLowerCase(), 'responses', status, 'content', mediaType, 'schema')}` });
      validators.set(key, validate);
    }
    return validate;
  }

  /** Every way the answer breaks the contract; empty when it keeps it. */
  return function problems(operation: Operation, answer: Answer): string[] {
    const found: string[] = [];
    const status = String(answer.statusCode);
    if (answer.statusCode >= 500) found.push(`server error ${status}`);
    if (STACK_TRACE.test(answer.body)) found.push(`stack trace or source path in the body: ${STACK_TRACE.exec(answer.body)![0]}`);
    const declared = operation.responses[status] ?? operation.responses[`${status[0]}XX`] ?? operation.responses.default;
    if (!declared) return [...found, `status ${status} is not declared (declared: ${Object.keys(operation.responses).join(', ')})`];
    if (answer.body === '' || !declared.content) return found;
    const mediaType = mediaTypeOf(answer.headers['content-type']);
    const declaredType = Object.keys(declared.content).find((type) => mediaTypeOf(type) === mediaType);
    if (!declaredType) return [...found, `content type ${mediaType} is not declared for ${status} (declared: ${Object.keys(declared.content).join(', ')})`];
    if (mediaType !== 'application/json' || !declared.content[declaredType]!.schema) return found;
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [...found, `the ${status} body is not JSON`];
    }
    const validate = validator(operation, status, declaredType);
    if (!validate(body)) found.push(`the ${status} body does not match its schema: ${ajv.errorsText(validate.errors)}`);
    return found;
  };
}
