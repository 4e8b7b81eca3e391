/**
 * GET /api/v1/ws: the WebSocket API (session.ts speaks its protocol). This file is the transport:
 * authentication at the upgrade, the client limit, ping/pong and the idle timeout, and the
 * per-socket send buffer past which a client that does not read is told and cut, so that one
 * slow client holds a bounded amount of memory and never slows the others.
 *
 * Credentials, in this order: `X-API-Key`, `Authorization: Bearer`, a `Sec-WebSocket-Protocol`
 * entry `bearer.<jwt>` or `apikey.<key>` (offered beside `vigie`, which the server selects: a
 * browser cannot set headers), `?token=` (kept out of the logs), or a first `auth` message.
 * Credentials given at the upgrade and refused answer 401/403 before any socket exists.
 */
import websocket from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Actor } from '../auth/actor.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { VigieApp } from '../http/types.js';
import { errorResponses } from '../http/schemas.js';
import { Type } from 'typebox';
import { systemScheduler, type Scheduler } from './coalescer.js';
import { meterRealtime } from './cpu-meter.js';
import { createSharedCoalescing } from './shared-coalescing.js';
import { websocketApiDescription } from './describe.js';
import type { Hub } from './hub.js';
import { AuthRefused, canSubscribe, createSession } from './session.js';
import { createFrameBatcher, DEFAULT_WRITE_WINDOW_MS, type FrameTarget } from './frame-batcher.js';

export const WS_PATH = '/api/v1/ws';
export const WS_SUBPROTOCOL = 'vigie';
/** Close codes: 1013 try again later (client limit), 4008 slow consumer, 4401/4403 refused auth, 4408 idle. */
export const CLOSE = { tryAgainLater: 1013, slowConsumer: 4008, unauthorized: 4401, forbidden: 4403, idle: 4408 } as const;
const MAX_MESSAGE_BYTES = 64 * 1024;
/** How long a cut client (slow, or idle) has to read what was queued (and why it was cut) before its socket is destroyed. */
const SLOW_CONSUMER_GRACE_MS = 5000;

export interface RealtimeLimits {
  pingIntervalMs: number;
  idleTimeoutMs: number;
  maxClients: number;
  sendBufferBytes: number;
  coalesceMs: number;
  /** Events sent to a socket within this window leave in one write (frame-batcher.ts); 0 writes each at once. */
  writeWindowMs?: number;
}

export interface RealtimeRouteDeps {
  hub: Hub;
  db: Db;
  authenticator: Authenticator;
  limits: RealtimeLimits;
  scheduler?: Scheduler;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Sockets open on this process's WebSocket API (seed 004's active connections). */
    realtimeClients(): number;
  }
  interface FastifyRequest {
    /** Set at the upgrade when credentials came with it. */
    wsActor?: Actor;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The credentials offered at the upgrade, wherever they came from. */
function credentialsOf(request: FastifyRequest): { apiKey?: string; bearerToken?: string } | undefined {
  const apiKey = header(request.headers['x-api-key']);
  if (apiKey) return { apiKey };
  const bearer = /^Bearer\s+(.+)$/i.exec(header(request.headers.authorization)?.trim() ?? '')?.[1];
  if (bearer) return { bearerToken: bearer };
  for (const protocol of (header(request.headers['sec-websocket-protocol']) ?? '').split(',').map((p) => p.trim())) {
    if (protocol.startsWith('bearer.')) return { bearerToken: protocol.slice('bearer.'.length) };
    if (protocol.startsWith('apikey.')) return { apiKey: protocol.slice('apikey.'.length) };
  }
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  if (typeof token === 'string' && token !== '') return token.startsWith('vk_') ? { apiKey: token } : { bearerToken: token };
  return undefined;
}

/** The request as logged: the path without its query, so that a `?token=` never reaches a log. */
const redactedRequest = (request: FastifyRequest) => ({ method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip });

export async function registerRealtimeRoutes(app: VigieApp, deps: RealtimeRouteDeps): Promise<void> {
  const { limits } = deps;
  const given = deps.scheduler ?? systemScheduler;
  // The sessions' timers (the coalescers' sweeps) are the realtime path's work too.
  const scheduler: Scheduler = { now: () => given.now(), schedule: (callback, delayMs) => given.schedule(() => meterRealtime(callback), delayMs) };
  let clients = 0;
  app.decorate('realtimeClients', () => clients);
  const sharedCoalescing = createSharedCoalescing(deps.hub, limits.coalesceMs, scheduler);
  const batcher = createFrameBatcher(limits.writeWindowMs ?? DEFAULT_WRITE_WINDOW_MS, limits.sendBufferBytes);
  app.addHook('onClose', async () => batcher.flush());

  async function authenticate(credentials: { apiKey?: string; bearerToken?: string }): Promise<Actor> {
    const actor = await deps.authenticator.authenticate(credentials);
    if (!canSubscribe(actor)) throw new ForbiddenError('This API key\'s scope does not allow the WebSocket API (needs "read"; an ingest key cannot subscribe)');
    return actor;
  }

  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: {
        maxPayload: MAX_MESSAGE_BYTES,
        // Not offered: frame-batcher.ts writes frames beside ws, which needs ws to write each of its frames at once.
        perMessageDeflate: false,
        handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
      },
    });

    // `wsHandler` (not `websocket: true`) keeps the route in the OpenAPI document; a plain GET gets 426.
    scope.route({
      method: 'GET',
      url: WS_PATH,
      schema: {
        summary: 'The WebSocket API: live, filtered events of the tenant',
        description: websocketApiDescription(),
        response: { ...errorResponses(401, 403), 426: Type.Unsafe({ $ref: 'ErrorResponse#' }) },
      },
      config: { access: 'public' }, // authenticated here, since a first `auth` message is allowed
      handler: async (_request, reply) =>
        reply
          .code(426)
          .header('upgrade', 'websocket')
          .send({ detail: `${WS_PATH} is a WebSocket endpoint: connect with Upgrade: websocket` }),
      logSerializers: { req: redactedRequest as never },
      preValidation: async (request) => {
        const credentials = credentialsOf(request);
        if (credentials) request.wsActor = await authenticate(credentials);
      },
      wsHandler: (socket: WebSocket, request) => {
        if (clients >= limits.maxClients) {
          socket.close(CLOSE.tryAgainLater, `at most ${limits.maxClients} clients: try again later`);
          return;
        }
        clients++;
        let counted = true;
        // The TCP stream under the WebSocket (the upgraded request's socket): where the batcher writes events.
        const target: FrameTarget = { stream: request.raw.socket, isOpen: () => socket.readyState === socket.OPEN, overflowed: () => slowConsumer() };
        /** What ws sends itself (a reply, the close frame) goes after the events held before it. */
        const sendNow = (text: string) => {
          batcher.release(target);
          socket.send(text);
        };
        // A cut socket no longer counts (it is sent nothing more), even before its close completes.
        const release = () => {
          if (counted) clients--;
          counted = false;
        };
        let cut = false;
        const session = createSession(
          {
            hub: deps.hub,
            db: deps.db,
            scheduler,
            coalesceMs: limits.coalesceMs,
            sharedCoalescing,
            async authenticate({ bearer, apiKey }) {
              try {
                return await authenticate({ ...(apiKey !== undefined && { apiKey }), ...(bearer !== undefined && { bearerToken: bearer }) });
              } catch (error) {
                if (error instanceof ForbiddenError) throw new AuthRefused(error.message, CLOSE.forbidden);
                if (error instanceof UnauthorizedError) throw new AuthRefused(error.message, CLOSE.unauthorized);
                throw error;
              }
            },
            // A reply (subscribed, pong, error) leaves at once, after the events held before it.
            send(message) {
              if (cut || socket.readyState !== socket.OPEN) return false;
              sendNow(JSON.stringify(message));
              return true;
            },
            // An event joins its socket's window; the batcher cuts a client past its send buffer (overflowed).
            sendEvent(prefix, seq, body) {
              if (cut || socket.readyState !== socket.OPEN) return false;
              batcher.add(target, prefix, seq, body);
              return true;
            },
            close: (code, reason) => socket.close(code, reason),
          },
          request.wsActor ?? null,
        );

        // The client is told (last in its buffer), the socket closed, and destroyed a few seconds
        // later if the close handshake cannot get through: memory is given back either way.
        function slowConsumer(): void {
          if (cut) return;
          cut = true;
          release();
          session.close();
          const detail = `send buffer over ${limits.sendBufferBytes} bytes: this client reads too slowly and is disconnected`;
          sendNow(JSON.stringify({ type: 'error', code: 'slow_consumer', detail }));
          socket.close(CLOSE.slowConsumer, 'slow consumer');
          setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
        }

        // Any frame from the client (a message, a pong) is activity; none for the idle timeout closes it.
        // A client that stops reading stops answering pings too, so this is also the time-based cut
        // of a stalled client whose kernel buffers still absorb what is sent (a few MB on loopback,
        // before the send buffer could fill): it is sent nothing more, and, like a slow consumer,
        // destroyed after a grace rather than after ws' 30 s close handshake.
        const idle = setTimeout(() => {
          release();
          session.close();
          socket.close(CLOSE.idle, 'idle timeout');
          setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
        }, limits.idleTimeoutMs);
        const pinger = setInterval(() => socket.ping(), limits.pingIntervalMs);
        // A socket that has not authenticated within the idle timeout is closed, even if it talks.
        const unauthenticated = setTimeout(() => session.authenticated || socket.close(CLOSE.unauthorized, 'not authenticated'), limits.idleTimeoutMs);
        const touch = () => idle.refresh();
        socket.on('pong', touch);
        socket.on('message', (data, isBinary) => {
          touch();
          if (isBinary) {
            sendNow(JSON.stringify({ type: 'error', detail: 'messages must be JSON text frames' }));
            return;
          }
          session.receive((data as Buffer).toString('utf8')).catch((error: unknown) => {
            request.log.error({ err: error }, 'realtime message failed');
            sendNow(JSON.stringify({ type: 'error', detail: 'internal error' }));
          });
        });
        socket.on('close', () => {
          release();
          batcher.forget(target);
          clearTimeout(idle);
          clearTimeout(unauthenticated);
          clearInterval(pinger);
          session.close();
        });
      },
    });
  });
}

export function realtimeLimitsFrom(config: Config): RealtimeLimits {
  return {
    pingIntervalMs: config.wsPingIntervalSeconds * 1000,
    idleTimeoutMs: config.wsIdleTimeoutSeconds * 1000,
    maxClients: config.wsMaxClients,
    sendBufferBytes: config.wsSendBufferBytes,
    coalesceMs: config.wsCoalesceMs,
    writeWindowMs: config.wsWriteWindowMs,
  };
}
