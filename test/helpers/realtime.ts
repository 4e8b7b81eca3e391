/**
 * Realtime tests: a Vigie app listening on 127.0.0.1 (real sockets), built on a fresh database
 * of the dialect, with a hand-moved scheduler for coalescing, and a `ws` client that queues what
 * it receives so a test can wait for the next message matching a predicate.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import type { DialectName } from '../../src/db/dialects/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { VigieApp } from '../../src/http/types.js';
import type { Scheduler } from '../../src/realtime/coalescer.js';
import type { ClosableHub } from '../../src/realtime/hub.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { TEST_SECRET_KEY } from './app.js';

/** Time that moves only when told: `advance` runs the callbacks that fall due. */
export class ManualScheduler implements Scheduler {
  private current = 0;
  private tasks: { at: number; callback: () => void; id: number }[] = [];
  private nextId = 0;

  now(): number {
    return this.current;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    const id = this.nextId++;
    this.tasks.push({ at: this.current + delayMs, callback, id });
    return () => {
      this.tasks = this.tasks.filter((task) => task.id !== id);
    };
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      this.tasks.sort((a, b) => a.at - b.at);
      const task = this.tasks[0];
      if (!task || task.at > until) break;
      this.tasks.shift();
      this.current = task.at;
      task.callback();
    }
    this.current = until;
  }
}

export interface RealtimeServer {
  app: VigieApp;
  url: string;
  wsUrl: string;
  services: Services;
  database: DatabaseHandle;
  clock: ManualClock;
  config: Config;
  scheduler: ManualScheduler;
  /** Every log line the server wrote, as text. */
  logs(): string;
  close(): Promise<void>;
}

export async function startRealtimeServer(dialect: DialectName, options: { env?: Record<string, string>; hub?: ClosableHub; testDatabase?: TestDatabase } = {}): Promise<RealtimeServer> {
  const testDatabase = options.testDatabase ?? (await createTestDatabase(dialect));
  const config = loadConfig({ LOG_LEVEL: 'info', DATABASE_URL: testDatabase.url, ...options.env });
  const database = await openDatabase(config.database);
  await migrateToLatest(database.db);
  const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 0));
  const scheduler = new ManualScheduler();
  let logged = '';
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
  const services = createServices({ db: database.db, clock, secretKey: TEST_SECRET_KEY, jwtExpiresMinutes: 60, ...(options.hub && { hub: options.hub }) });
  const app = await buildApp({ config, database, clock, secretKey: TEST_SECRET_KEY, services, logger, realtimeScheduler: scheduler });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/api/v1/ws`,
    services,
    database,
    clock,
    config,
    scheduler,
    logs: () => logged,
    async close() {
      await app.close();
      await options.hub?.close();
      await database.close();
      if (!options.testDatabase) await testDatabase.drop();
    },
  };
}

export interface Message {
  type: string;
  [field: string]: any;
}

export interface TestSocket {
  ws: WebSocket;
  /** The next message (not yet taken) matching the predicate; fails after the timeout. */
  next(predicate?: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
  /** Messages received and not taken. */
  pending(): Message[];
  send(message: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export function openSocket(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const queue: Message[] = [];
  const waiters: { predicate: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString('utf8')) as Message;
    const i = waiters.findIndex((w) => w.predicate(message));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const socket: TestSocket = {
    ws,
    next(predicate = () => true, timeoutMs = 5000) {
      const i = queue.findIndex(predicate);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (m: Message) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(queue).slice(0, 500)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    pending: () => [...queue],
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    closed,
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { statusCode: response.statusCode })));
    ws.once('error', reject);
  });
}

/** Subscribes and waits for the acknowledgement. */
export async function subscribe(socket: TestSocket, id: string, streamType: string, filters?: Record<string, unknown>): Promise<void> {
  socket.send({ action: 'subscribe', id, stream_type: streamType, ...(filters && { filters }) });
  const reply = await socket.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.id === id);
  if (reply.type !== 'subscribed') throw new Error(`subscribe ${id} refused: ${reply.detail}`);
}

/** Waits a little and says what arrived meanwhile (to show that nothing did). */
export async function quietFor(socket: TestSocket, ms: number): Promise<Message[]> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return socket.pending();
}
