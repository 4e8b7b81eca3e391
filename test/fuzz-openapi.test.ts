/**
 * The fuzz suite: for EVERY operation of the app's own `/openapi.json`, property-based requests
 * (fast-check) made from its declared parameters and body schema (valid values, boundaries, wrong
 * types, huge numbers, long and odd strings, deep nesting, missing and extra fields), sent with
 * real credentials (a full key, a read-only key, a superuser's token, now and then none) through
 * `app.inject` to the app on a real SQLite database holding one of each resource. Every answer
 * must keep the contract (helpers/fuzz/oracle.ts): no 5xx, a declared status and content type,
 * a JSON body valid against its declared schema, no stack trace.
 *
 * Bounded in time: FUZZ_BUDGET_SECONDS (default 100; about two minutes with the set-up) split
 * evenly across the operations, each running until its share is spent (or FUZZ_MAX_RUNS).
 * Seeded: FUZZ_SEED replays a run; a failure prints the seed, and each kind of broken answer
 * with the first exchange that showed it. Operations run in an order that keeps the fixtures
 * alive: reads, then creates and actions, then updates, then deletes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from './helpers/app.js';
import { createFuzzFixtures, type FuzzFixtures } from './helpers/fuzz/fixtures.js';
import { createOracle } from './helpers/fuzz/oracle.js';
import { requestArbitrary, type FuzzRequest, type Operation, type Parameter } from './helpers/fuzz/requests.js';
import type { Schema } from './helpers/fuzz/schema-arbitrary.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_SECONDS ?? 100) * 1000;
const MAX_RUNS = Number(process.env.FUZZ_MAX_RUNS ?? 2_000);
/** Requests every operation gets, however slow the machine. */
const MIN_RUNS = 20;
/** Credentials by share of requests. */
const CREDENTIAL_WEIGHTS = { full: 10, 'read-only': 3, superuser: 3, none: 1 };
const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** The generic delete of a monitor of any kind goes last: it can remove any kind's fixture. */
const LAST = 'DELETE /api/v1/monitors/{id}';

interface Document {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> }; responses: Operation['responses'] }>>;
  components: { schemas: Record<string, Schema> };
}

function operationsOf(document: Document): Operation[] {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content['application/json']?.schema,
      bodyRequired: op.requestBody?.required ?? false,
      responses: op.responses,
    })),
  );
  const rank = (op: Operation) => (`${op.method} ${op.path}` === LAST ? METHOD_ORDER.length : METHOD_ORDER.indexOf(op.method));
  return operations.sort((a, b) => rank(a) - rank(b));
}

/** Resolves `#/components/schemas/Name` against the document. */
const resolverFor = (document: Document) => (schema: Schema) => {
  const ref = schema.$ref;
  return typeof ref === 'string' ? document.components.schemas[ref.replace('#/components/schemas/', '')]! : schema;
};

/** The request and answer, short enough to read in a failure. */
function describeExchange(request: FuzzRequest, statusCode: number, body: string): string {
  const clip = (text: string | undefined) => (text && text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);
  return `${request.method} ${clip(request.url)} as ${request.credential}${request.payload !== undefined ? ` body ${clip(request.payload)}` : ''} → ${statusCode} ${clip(body)}`;
}

// The app, its fixtures and its document are made once, before the operations are known to vitest.
const ctx: TestContext = await createTestApp('sqlite');
let fixtures: FuzzFixtures;
const document = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
const operations = operationsOf(document);
const perOperationMs = Math.max(200, Math.floor(BUDGET_MS / operations.length));

describe(`fuzzing every operation of /openapi.json (seed ${SEED}, ${perOperationMs} ms each)`, () => {
  const oracle = createOracle(document as unknown as Record<string, unknown>);
  const resolve = resolverFor(document);

  beforeAll(async () => {
    fixtures = await createFuzzFixtures(ctx);
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('covers every operation of the document', () => {
    expect(operations.length).toBeGreaterThan(90);
  });

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))(
    '%s keeps its contract',
    async (_name, operation) => {
      const requests = requestArbitrary(operation, resolve, fixtures.known, fixtures.credentials, CREDENTIAL_WEIGHTS);
      // Each kind of broken answer once, with the first exchange that showed it: the run goes on
      // after a failure, so that one known defect does not hide the others of the operation.
      const found = new Map<string, string>();
      const property = fc.asyncProperty(requests, async (request) => {
        const answer = await ctx.app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload !== undefined && { payload: request.payload }) });
        for (const problem of oracle(operation, { statusCode: answer.statusCode, headers: answer.headers, body: answer.body })) {
          const kind = problem.split(':')[0]!;
          if (!found.has(kind)) found.set(kind, `${problem}\n    ${describeExchange(request, answer.statusCode, answer.body)}`);
        }
      });
      // First MIN_RUNS requests whatever the time, then as many as the operation's share of the
      // budget allows at the pace measured. No interruption: a request cut off would run on
      // against the next operation.
      const started = Date.now();
      await fc.assert(property, { seed: SEED, numRuns: MIN_RUNS });
      const perRun = (Date.now() - started) / MIN_RUNS;
      const more = Math.min(MAX_RUNS, Math.floor((perOperationMs - (Date.now() - started)) / perRun));
      if (more > 0) await fc.assert(property, { seed: SEED + 1, numRuns: more });
      expect([...found.values()], `FUZZ_SEED=${SEED} replays this run`).toEqual([]);
    },
    perOperationMs * 4 + 30_000,
  );
});
