/**
 * A long upload (a backup of gigabytes over a slow link) outlives REQUEST_TIMEOUT_SECONDS, which
 * bounds a whole request, body included, and rightly so everywhere else. Node has no per-request
 * exemption: its timeout sweep walks the server's list of connections with a request under way.
 * The upload's connection is taken off that list (`parser.remove()`, what Node itself does to a
 * connection it hands over on an upgrade; its next request on the connection is listed again) and
 * held to a progress rule instead: at least MIN_UPLOAD_BYTES_PER_SECOND on average over every
 * window of the request timeout, or the socket is destroyed. A stalled upload is also cut by
 * CONNECTION_TIMEOUT_SECONDS (the socket's idle timeout), which still applies.
 */
import type { IncomingMessage } from 'node:http';

/** Slower than this over a whole window is a trickle holding a connection, not a slow link. */
export const MIN_UPLOAD_BYTES_PER_SECOND = 1024;

interface NodeParser {
  remove?: () => void;
}

/**
 * Exempts the request from the request timeout, enforcing the progress rule over windows of
 * `windowMs`; returns what ends the rule (call it once the body is read). Where Node's parser
 * offers no `remove` (another Node version), the request timeout simply keeps applying.
 */
export function holdToProgress(request: IncomingMessage, windowMs: number, minBytesPerSecond = MIN_UPLOAD_BYTES_PER_SECOND): () => void {
  const socket = request.socket;
  const parser = (socket as unknown as { parser?: NodeParser | null }).parser;
  if (typeof parser?.remove !== 'function') return () => undefined;
  parser.remove();
  const minBytes = (minBytesPerSecond * windowMs) / 1000;
  // Bytes read off the socket, not 'data' events: a listener here would change how the handler reads the stream.
  let lastRead = socket.bytesRead;
  const timer = setInterval(() => {
    const read = socket.bytesRead;
    if (read - lastRead < minBytes) socket.destroy();
    lastRead = read;
  }, windowMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** How long the rest of a refused upload is still read, and thrown away, before its connection is cut. */
export const REFUSAL_LINGER_MS = 2000;

/**
 * A request refused before its body was read (a closed run, an unknown job, a Content-Length
 * over the limit) may still have gigabytes on the way. Closing at once, as `Connection: close`
 * makes Node do, resets a connection whose client is still sending: the client's next write
 * fails (EPIPE, ECONNRESET), and most clients then report that instead of the answer they had
 * not read yet. Like a web server's lingering close, Node is left to read and discard the body
 * (what it does after any answer) for `lingerMs`, time for the client to read the answer; then a
 * body still arriving is cut rather than read to its end.
 */
export function lingerAfterRefusal(request: IncomingMessage, lingerMs = REFUSAL_LINGER_MS): void {
  const socket = request.socket;
  // `app.inject` hands in a stand-in socket with no connection to cut (and no destroy): nothing lingers.
  if (request.complete || typeof socket?.destroy !== 'function') return;
  const timer = setTimeout(() => {
    if (!request.complete) socket.destroy();
  }, lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
