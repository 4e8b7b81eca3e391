/**
 * Parses and checks agent batches (the JSON text of POST /api/v1/ingest/metrics) off the main
 * thread. JSON parsing and the item-by-item check (ingest-body.ts) of a 1,000-metric batch cost
 * about as much main-thread time as storing it; in a worker thread they run beside the
 * request handling and the database writes, on another core. The answer crosses back as columns
 * (metric-columns.ts), which the main thread turns into the batch's metrics.
 *
 * `threads: 0`, or a build without the compiled thread script (the test runner runs the
 * TypeScript sources), checks in the calling thread: same function, same results. A thread that
 * dies fails the batches it held (500, the agent retries with the same ingest id) and is
 * replaced on the next batch.
 *
 * JSON is read by secure-json-parse with fastify's defaults (a `__proto__` or `constructor.
 * prototype` key refuses the body), so this route parses exactly as the others do.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import secureJson from 'secure-json-parse';
import type { FieldProblem } from '../../errors.js';
import { DEFAULT_BODY_MAX_DEPTH, jsonNestsDeeperThan } from '../../http/json-depth.js';
import { checkIngestBody, type BodyCheck, type IngestMachine } from './ingest-body.js';
import { fromColumns, toColumns, transferables, type MetricColumns } from './metric-columns.js';

export interface BodyCheckRequest {
  id: number;
  text: string;
  receivedAt: number;
  maxMetrics: number;
  maxDepth: number;
}

/** A body nested deeper than the limit: refused (400) before it is parsed, as on every JSON route. */
export interface TooDeep {
  ok: false;
  tooDeep: number;
}

/** What checking a body gives: the batch, its field problems (422), or too deep to read (400). */
export type ParsedBody = BodyCheck | TooDeep;

export type BodyCheckReply =
  { id: number; ok: true; machine: IngestMachine; columns: MetricColumns; receivedAt: number } | { id: number; ok: false; problems: FieldProblem[] } | ({ id: number } & TooDeep);

const jsonProblem = (msg: string, type: string): FieldProblem[] => [{ loc: ['body'], msg, type }];

/** Parses and checks one body; what both the thread and the in-thread fallback run. */
export function parseAndCheck(text: string, receivedAt: number, maxMetrics: number, maxDepth = DEFAULT_BODY_MAX_DEPTH): ParsedBody {
  if (text.length === 0) return { ok: false, problems: jsonProblem('Body is empty but Content-Type is application/json', 'missing') };
  // Before parsing: the checks below walk the value recursively (http/json-depth.ts).
  if (jsonNestsDeeperThan(text, maxDepth)) return { ok: false, tooDeep: maxDepth };
  let body: unknown;
  try {
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    return { ok: false, problems: jsonProblem(`JSON decode error: ${(error as Error).message}`, 'json_invalid') };
  }
  return checkIngestBody(body, receivedAt, maxMetrics);
}

/** The thread's side: one request in, one reply out, columns moved rather than copied. */
export function answer({ id, text, receivedAt, maxMetrics, maxDepth }: BodyCheckRequest): { reply: BodyCheckReply; transfer: ArrayBuffer[] } {
  const checked = parseAndCheck(text, receivedAt, maxMetrics, maxDepth);
  if (!checked.ok) return { reply: { id, ...checked }, transfer: [] };
  const columns = toColumns(checked.batch.metrics);
  return { reply: { id, ok: true, machine: checked.batch.machine, columns, receivedAt }, transfer: transferables(columns) };
}

export interface IngestBodyCheckerOptions {
  maxMetrics: number;
  /** BODY_MAX_DEPTH; 64 by default. */
  maxDepth?: number;
  /** Worker threads; 0 checks in the calling thread. */
  threads: number;
  /** The compiled thread script; by default the one beside this module, when it exists. */
  threadScript?: URL;
}

interface Waiting {
  resolve: (check: ParsedBody) => void;
  reject: (error: unknown) => void;
}

export function createIngestBodyChecker({ maxMetrics, maxDepth = DEFAULT_BODY_MAX_DEPTH, threads, threadScript = new URL('./body-check-thread.js', import.meta.url) }: IngestBodyCheckerOptions) {
  const useThreads = threads > 0 && existsSync(fileURLToPath(threadScript));
  const workers: (Worker | undefined)[] = new Array<Worker | undefined>(useThreads ? threads : 0).fill(undefined);
  const waiting = new Map<number, Waiting>();
  const owner = new Map<number, number>(); // request id → worker slot
  let nextId = 0;
  let nextSlot = 0;

  function failSlot(slot: number, error: unknown): void {
    workers[slot] = undefined;
    for (const [id, at] of owner) {
      if (at !== slot) continue;
      owner.delete(id);
      waiting.get(id)?.reject(error);
      waiting.delete(id);
    }
  }

  function worker(slot: number): Worker {
    let thread = workers[slot];
    if (thread) return thread;
    thread = new Worker(threadScript);
    thread.unref(); // a pending check keeps the process alive through its request, not the thread
    thread.on('message', (reply: BodyCheckReply) => {
      const pending = waiting.get(reply.id);
      waiting.delete(reply.id);
      owner.delete(reply.id);
      if (!pending) return;
      if (!reply.ok) return pending.resolve('tooDeep' in reply ? { ok: false, tooDeep: reply.tooDeep } : { ok: false, problems: reply.problems });
      pending.resolve({ ok: true, batch: { machine: reply.machine, metrics: fromColumns(reply.columns), receivedAt: reply.receivedAt } });
    });
    thread.on('error', (error) => failSlot(slot, error));
    thread.on('exit', (code) => failSlot(slot, new Error(`the ingest body-check thread exited with code ${code}`)));
    workers[slot] = thread;
    return thread;
  }

  return {
    /** Whether checks run in worker threads (false: in the calling thread). */
    threaded: useThreads,
    check(text: string, receivedAt: number): Promise<ParsedBody> {
      if (!useThreads) return Promise.resolve(parseAndCheck(text, receivedAt, maxMetrics, maxDepth));
      const id = nextId++;
      const slot = nextSlot;
      nextSlot = (nextSlot + 1) % workers.length;
      return new Promise<ParsedBody>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        owner.set(id, slot);
        worker(slot).postMessage({ id, text, receivedAt, maxMetrics, maxDepth } satisfies BodyCheckRequest);
      });
    },
    async close(): Promise<void> {
      const running = workers.filter((w): w is Worker => w !== undefined);
      workers.fill(undefined);
      await Promise.all(running.map((w) => w.terminate()));
    },
  };
}

export type IngestBodyChecker = ReturnType<typeof createIngestBodyChecker>;
