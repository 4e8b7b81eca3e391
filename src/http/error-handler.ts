/**
 * The one place where errors become HTTP responses, all of the shape `{"detail": …}` (plus
 * `error` under `/api/v3/`, where Healthchecks' clients look for it).
 * A client's mistake maps to its 4xx; a database that cannot serve now (unreachable, shutting
 * down, locked, out of disk) to a 503 with Retry-After, so that clients retry; anything else is
 * a 500 that is logged with its stack and answered with only the request id.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/errors.js';
import { AppError, type FieldProblem } from '../errors.js';
import { trackRouteMethods } from './method-not-allowed.js';
import type { VigieApp } from './types.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const LOCATION_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function pathSegments(instancePath: string): (string | number)[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function describeIssue(issue: AjvIssue): Pick<FieldProblem, 'msg' | 'type'> {
  const { keyword, params } = issue;
  switch (keyword) {
    case 'required':
      return { msg: 'Field required', type: 'missing' };
    case 'additionalProperties':
      return { msg: 'Extra field not permitted', type: 'extra_forbidden' };
    case 'format':
      return { msg: `Value is not a valid ${String(params.format)}`, type: `${String(params.format)}_parsing` };
    case 'enum':
      return { msg: `Input should be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, type: 'enum' };
    case 'type':
      return { msg: `Input should be of type ${String(params.type)}`, type: `${String(params.type)}_type` };
    default:
      return { msg: issue.message ? `Value ${issue.message}` : 'Invalid value', type: keyword };
  }
}

export function validationProblems(issues: AjvIssue[], context: string | undefined): FieldProblem[] {
  const where = LOCATION_NAMES[context ?? 'body'] ?? context ?? 'body';
  const problems = issues
    // anyOf/oneOf repeat what their branches said; keep the branch errors only.
    .filter((issue) => issue.keyword !== 'anyOf' && issue.keyword !== 'oneOf')
    .map((issue) => {
      const loc: (string | number)[] = [where, ...pathSegments(issue.instancePath)];
      if (issue.keyword === 'required') loc.push(String(issue.params.missingProperty));
      if (issue.keyword === 'additionalProperties') loc.push(String(issue.params.additionalProperty));
      return { loc, ...describeIssue(issue) };
    });
  // One entry per field: the first complaint is the most specific (a nullable field that fails
  // would otherwise also say "not null", an empty name both "too short" and "no visible
  // character"), except that a rejected union branch's type complaint yields to anything else.
  // A rejected union branch's type complaint also yields to a complaint about a field inside
  // it (`auth: {extra: 1}` is "extra field", not "should be null").
  const isPrefix = (outer: FieldProblem['loc'], inner: FieldProblem['loc']) => outer.length < inner.length && outer.every((part, i) => part === inner[i]);
  const relevant = problems.filter((p) => !(p.type.endsWith('_type') && problems.some((q) => q !== p && isPrefix(p.loc, q.loc))));
  const byField = new Map<string, FieldProblem>();
  for (const problem of relevant) {
    const key = JSON.stringify(problem.loc);
    const kept = byField.get(key);
    if (!kept || (kept.type.endsWith('_type') && !problem.type.endsWith('_type'))) byField.set(key, problem);
  }
  return [...byField.values()];
}

/** URL trees that are Healthchecks' API alone (src/routes/healthchecks-v3.ts): an unknown URL there answers with both fields. */
const HEALTHCHECKS_ONLY_PREFIXES = ['/api/v3/', '/api/v2/', '/hc/'];

/** Healthchecks' own clients print `error`: its API answers with both fields. */
function healthchecksError(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return (detail as FieldProblem[]).map((p) => `${p.loc.slice(1).join('.') || p.loc.join('.')}: ${p.msg}`).join('; ');
  return 'invalid request';
}

function send(reply: FastifyReply, status: number, detail: unknown) {
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
  const healthchecks = HEALTHCHECKS_ONLY_PREFIXES.some((prefix) => reply.request.url.startsWith(prefix));
  return reply.status(status).send(healthchecks ? { detail, error: healthchecksError(detail) } : { detail });
}

/** What a 503 for an unavailable database asks clients to wait. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route runs (a URL that does not
 * decode, a path parameter over the length limit), in the same shape as every other error.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const [status, detail] =
    error.code === 'FST_ERR_BAD_URL'
      ? [400, 'Malformed URL: a percent-encoded sequence does not decode']
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, 'The request URI is too long: a path segment exceeds the length limit']
        : [error.statusCode ?? 400, error.message];
  void send(reply, status, detail);
}

/** Must run before routes are registered: it learns each path's methods as they come (405s). */
export function installErrorHandling(app: VigieApp): void {
  const routeMethods = trackRouteMethods(app);

  // Fastify's own 503 while closing (return503OnClosing) has its shape: this one is ours. It runs
  // before authentication, so a request arriving during shutdown costs no database query.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)).header('connection', 'close');
    void send(reply, 503, 'Vigie is shutting down; retry in a few seconds');
  });
  app.setErrorHandler((error: FastifyError & { detail?: unknown }, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) return send(reply, error.statusCode, error.detail);
    if (error.validation) {
      return send(reply, 422, validationProblems(error.validation as AjvIssue[], error.validationContext));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, 413, `Request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 415, `Unsupported Content-Type "${request.headers['content-type'] ?? ''}"; send application/json`);
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, 422, [{ loc: ['body'], msg: 'Body is empty but Content-Type is application/json', type: 'missing' }]);
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return send(reply, 422, [{ loc: ['body'], msg: `JSON decode error: ${error.message}`, type: 'json_invalid' }]);
    }
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return send(reply, 422, [{ loc: ['body'], msg: `JSON decode error: ${error.message}`, type: 'json_invalid' }]);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return send(reply, status, error.detail ?? error.message);
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'the database is unavailable');
      reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return reply.status(503).send({ detail: 'The database is unavailable; retry in a few seconds', request_id: request.id });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ detail: 'Internal server error', request_id: request.id });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    // A known path asked with a method it lacks: 405 naming those it has (RFC 9110 wants Allow).
    const allowed = routeMethods.allowedOn(path);
    if (allowed.length > 0 && !allowed.includes(request.method) && !(request.method === 'HEAD' && allowed.includes('GET'))) {
      reply.header('allow', allowed.join(', '));
      return send(reply, 405, `Method ${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`);
    }
    return send(reply, 404, `Not Found: ${request.method} ${path}`);
  });
}
