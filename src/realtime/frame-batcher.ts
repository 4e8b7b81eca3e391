/**
 * Gathers the events sent to each socket during a short window, and writes them as one buffer of
 * WebSocket frames. A frame written on its own costs a system call (and, on loopback, the
 * receiver's wake-up) whatever its size; and `ws`' `send` makes a header buffer and two stream
 * writes for each message. At 100 clients that each get a few hundred small events a second,
 * those were most of what the realtime API cost (profiles of bench:realtime: `writev` under each
 * `send`, then the write requests and their garbage). Here each socket's events of the window
 * are kept as pieces already encoded; one timer for the whole process copies each socket's into
 * one buffer of frames and writes it. An event waits at most the window (10 ms by default), well
 * inside the latency goal (p99 < 100 ms).
 *
 * Writing frames beside `ws` is safe because `ws` (without permessage-deflate, which Vigie does
 * not offer) writes each of its own frames whole and at once: a buffer written here falls
 * between two of them. What `ws` sends itself (replies, pings, the close frame) must not pass
 * events held before it: the route `release`s a socket's held events before each of those, and
 * events held for a socket that is no longer open are dropped (nothing may follow a close frame).
 */
import type { Duplex } from 'node:stream';
import { meterRealtime } from './cpu-meter.js';

export const DEFAULT_WRITE_WINDOW_MS = 10;

/** Where a socket's frames go, whether it may still be sent data frames, and what to do when it reads too slowly. */
export interface FrameTarget {
  stream: Duplex;
  isOpen(): boolean;
  /** Called when what the kernel has not taken passes the send buffer (the batcher's `sendBufferBytes`). */
  overflowed(): void;
}

const FINAL_TEXT_FRAME = 0x81;

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/** Writes a non-negative integer's digits at `at` (no string made); returns the offset after them. */
function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

/**
 * A socket's held events, three entries each: its subscription's prefix, its seq, and its body
 * (the part every socket it goes to shares, encoded once: session.ts). Arrays rather than an
 * object per event: at tens of thousands of events a second, the garbage was the realtime
 * path's largest cost (a GC trace of bench:realtime: scavenges and old-space collections nearly
 * doubled with 100 clients).
 */
interface Held {
  pieces: (Buffer | number)[];
  bytes: number;
}

const payloadBytes = (prefix: Buffer, seq: number, body: Buffer) => prefix.length + digits(seq) + body.length;
const headerBytes = (payload: number) => (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

/** RFC 6455 §5.2: one final, unmasked (server to client) text frame per event, all in one buffer. */
export function eventFrames(pieces: readonly (Buffer | number)[]): Buffer {
  let total = 0;
  for (let i = 0; i < pieces.length; i += 3) {
    const payload = payloadBytes(pieces[i] as Buffer, pieces[i + 1] as number, pieces[i + 2] as Buffer);
    total += headerBytes(payload) + payload;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < pieces.length; i += 3) {
    const prefix = pieces[i] as Buffer;
    const seq = pieces[i + 1] as number;
    const body = pieces[i + 2] as Buffer;
    const payload = payloadBytes(prefix, seq, body);
    out[at++] = FINAL_TEXT_FRAME;
    if (payload < 126) out[at++] = payload;
    else if (payload < 65_536) {
      out[at++] = 126;
      at = out.writeUInt16BE(payload, at);
    } else {
      out[at++] = 127;
      at = out.writeUInt32BE(Math.floor(payload / 2 ** 32), at);
      at = out.writeUInt32BE(payload >>> 0, at);
    }
    at += prefix.copy(out, at);
    at = writeDigits(out, at, seq);
    at += body.copy(out, at);
  }
  return out;
}

/**
 * `sendBufferBytes`: what a socket may have that the kernel has not taken (its client's backlog)
 * before it is judged slow. It is looked at once per socket and write, not per event; events held
 * past it within one window are written at once, so a burst bigger than the buffer does not cut a
 * client that reads.
 */
export function createFrameBatcher(windowMs: number, sendBufferBytes: number) {
  const held = new Map<FrameTarget, Held>();
  let timer: NodeJS.Timeout | undefined;

  function write(target: FrameTarget, pieces: readonly (Buffer | number)[]): void {
    if (!target.isOpen() || target.stream.destroyed) return;
    target.stream.write(eventFrames(pieces));
    if (target.stream.writableLength > sendBufferBytes) target.overflowed();
  }

  function release(target: FrameTarget): void {
    const entry = held.get(target);
    if (!entry) return;
    held.delete(target);
    write(target, entry.pieces);
  }

  function flush(): void {
    timer = undefined;
    meterRealtime(() => {
      // Each taken out before it is written: a write that cuts its client (overflowed) must not find it again.
      for (const [target, entry] of held) {
        held.delete(target);
        write(target, entry.pieces);
      }
    });
  }

  return {
    /** Sends an event (the JSON text `prefix` + `seq` + `body`) to the target as one text frame, with the others of the window. */
    add(target: FrameTarget, prefix: Buffer, seq: number, body: Buffer): void {
      if (windowMs <= 0) return write(target, [prefix, seq, body]);
      const entry = held.get(target);
      if (entry) {
        entry.pieces.push(prefix, seq, body);
        entry.bytes += prefix.length + body.length;
        if (entry.bytes > sendBufferBytes) release(target);
      } else held.set(target, { pieces: [prefix, seq, body], bytes: prefix.length + body.length });
      timer ??= setTimeout(flush, windowMs);
    },
    /** Writes what the target holds now: before anything `ws` sends it, so that nothing passes an event. */
    release,
    /** Drops what the target holds (its socket is gone). */
    forget(target: FrameTarget): void {
      held.delete(target);
    },
    /** Writes what every target holds now (the server stopping). */
    flush(): void {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}
