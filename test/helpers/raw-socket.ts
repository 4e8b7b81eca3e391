/**
 * Raw TCP conversations with a listening server (node:net), for what an HTTP client library
 * cannot send: half a request, a body trickled a byte at a time, oversized heads. Everything the
 * server writes is kept, with when the server closed the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawConversation {
  socket: Socket;
  /** Resolves when the server closes (or resets) the connection: what it wrote, and when. */
  closed: Promise<{ text: string; closedAt: number }>;
}

export function openRaw(port: number): Promise<RawConversation> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    const closed = new Promise<{ text: string; closedAt: number }>((done) => {
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => done({ text, closedAt: Date.now() }));
      socket.on('error', () => {}); // a reset after the answer is still a close
    });
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Sends one whole request and waits for the server to close the connection (send `Connection: close`). */
export async function rawExchange(port: number, request: string | Buffer): Promise<string> {
  const conversation = await openRaw(port);
  conversation.socket.write(request);
  return (await conversation.closed).text;
}

/** Status line, headers (lower-case names) and body of the first response in `text`. */
export function parseRawResponse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const length = Number(headers['content-length'] ?? text.length);
  return { status: Number(statusLine?.split(' ')[1]), headers, body: text.slice(split + 4, split + 4 + length) };
}
