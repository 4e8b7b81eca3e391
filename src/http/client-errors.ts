/**
 * Answers to what goes wrong before a request reaches Fastify's router (Node's HTTP parser and
 * timeouts), in the project's one error shape `{"detail": …}` instead of Fastify's own
 * `{"error","message","statusCode"}`. There is no request or reply object yet: the answer is
 * written to the socket by hand, which is then closed (the connection's state is unknown).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

interface ParserError extends Error {
  code?: string;
  /** The chunk being parsed when the parser gave up: a Buffer (Node sets it on parser errors). */
  rawPacket?: unknown;
}

/** Above this many bytes in the request line, an oversized head is blamed on the URI (414), not the headers (431). */
const LONG_REQUEST_LINE = 4096;

/**
 * Node reports a URI longer than its header size limit as a header overflow; when the chunk in
 * hand starts a request whose first line is that long (or has not ended), the URI is the culprit.
 */
function uriTooLong(rawPacket: unknown): boolean {
  if (!Buffer.isBuffer(rawPacket)) return false;
  const head = rawPacket.subarray(0, 64).toString('latin1');
  if (!/^[A-Z]+ \//.test(head)) return false;
  const lineEnd = rawPacket.indexOf('\r\n');
  return lineEnd === -1 || lineEnd > LONG_REQUEST_LINE;
}

export function describeClientError(error: ParserError): { status: number; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request did not arrive in time' };
    case 'HPE_HEADER_OVERFLOW':
      return uriTooLong(error.rawPacket) ? { status: 414, detail: 'The request URI is too long' } : { status: 431, detail: 'The request headers are too large' };
    case 'HPE_INVALID_METHOD':
      return { status: 501, detail: 'Unknown HTTP method' };
    default:
      return { status: 400, detail: `Malformed HTTP request${error.code?.startsWith('HPE_') ? ` (${error.code})` : ''}` };
  }
}

/** Fastify's `clientErrorHandler` (bound to the instance). */
export function clientErrorHandler(this: FastifyInstance, error: ParserError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, detail } = describeClientError(error);
  // Scanners and broken clients make these all day: not worth more than debug.
  this.log.debug({ code: error.code, status }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ detail });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
