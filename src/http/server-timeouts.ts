/**
 * The HTTP server's timeouts, from the configuration, as Fastify's constructor options. Without
 * them a client that sends half a request, or one byte a second, holds a connection (and its
 * memory) forever: Fastify and Node set no request or idle timeout by default.
 *
 * - `requestTimeout`: the whole request (headers and body) must arrive in time; it ends once the
 *   request is received, so a long streamed answer (an export) is not cut.
 * - `headersTimeout` (Node's, passed through `http`): the headers alone, against slow-header
 *   clients; Node wants it no longer than the request timeout (config.ts checks that).
 * - `keepAliveTimeout`: an idle keep-alive connection between two requests.
 * - `connectionTimeout`: a socket on which nothing moves at all.
 *
 * Node enforces the first two from a periodic sweep (30 s by default), which would let a 10 s
 * limit hold for 40 s: the sweep runs every second, or twice per headers timeout when shorter.
 */
import type { Server } from 'node:http';
import type { FastifyHttpOptions } from 'fastify';
import type { Config } from '../config.js';

type TimeoutOptions = Pick<FastifyHttpOptions<Server>, 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout' | 'http'>;

export function serverTimeoutOptions(config: Config): TimeoutOptions {
  const headersTimeout = config.headersTimeoutSeconds * 1000;
  return {
    requestTimeout: config.requestTimeoutSeconds * 1000,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    connectionTimeout: config.connectionTimeoutSeconds * 1000,
    http: {
      headersTimeout,
      requestTimeout: config.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(1000, Math.floor(headersTimeout / 2)),
    },
  };
}
