/**
 * Gathers the events sent to each socket during a short window, and writes them as one buffer of
 * WebSocket frames. A frame written on its own costs a system call (and, on loopback, the
 * receiver's wake-up) whatever its size; and `ws`' `send` makes a header buffer and two stream
 * writes for each message. At 100 clients that each get a few hundred small events a second,
 * those were most of what the realtime API cost (profiles of bench:realtime: `writev` under each
 * `send`, then the write requests and their garbage). Here each socket's events of the window
 * are kept as strings; one timer for the whole process encodes each socket's strings into one
 * buffer of frames and writes it. An event waits at most the window (10 ms by default), well
 * inside the latency goal (p99 < 100 ms).
 *
 * Writing frames beside `ws` is safe because `ws` (without permessage-deflate, which Vigie does
 * not offer) writes each of its own frames whole and at once: a buffer written here falls
 * between two of them. What `ws` sends itself (replies, pings, the close frame) must not pass
 * events held before it: the route `release`s a socket's held events before each of those, and
 * events held for a socket that is no longer open are dropped (nothing may follow a close frame).
 */
import type { Duplex } from 'node:stream';

export const DEFAULT_WRITE_WINDOW_MS = 10;

/** Where a socket's frames go, and whether it may still be sent data frames. */
export interface FrameTarget {
  stream: Duplex;
  isOpen(): boolean;
}

const FINAL_TEXT_FRAME = 0x81;

/** RFC 6455 §5.2: one final, unmasked (server to client) text frame per message, all in one buffer. */
export function textFrames(texts: readonly string[]): Buffer {
  let total = 0;
  for (const text of texts) {
    const length = Buffer.byteLength(text);
    total += length + (length < 126 ? 2 : length < 65_536 ? 4 : 10);
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const text of texts) {
    const length = Buffer.byteLength(text);
    out[at++] = FINAL_TEXT_FRAME;
    if (length < 126) out[at++] = length;
    else if (length < 65_536) {
      out[at++] = 126;
      at = out.writeUInt16BE(length, at);
    } else {
      out[at++] = 127;
      at = out.writeUInt32BE(Math.floor(length / 2 ** 32), at);
      at = out.writeUInt32BE(length >>> 0, at);
    }
    at += out.write(text, at, 'utf8');
  }
  return out;
}

interface Held {
  texts: string[];
  /** UTF-16 length of the texts: their size, near enough to weigh a backlog. */
  size: number;
}

export function createFrameBatcher(windowMs: number = DEFAULT_WRITE_WINDOW_MS) {
  const held = new Map<FrameTarget, Held>();
  let timer: NodeJS.Timeout | undefined;

  function write(target: FrameTarget, texts: readonly string[]): void {
    if (target.isOpen() && !target.stream.destroyed) target.stream.write(textFrames(texts));
  }

  function flush(): void {
    timer = undefined;
    for (const [target, entry] of held) write(target, entry.texts);
    held.clear();
  }

  return {
    /** Sends `text` to the target as one text frame, with the others of the window. */
    add(target: FrameTarget, text: string): void {
      if (windowMs <= 0) return write(target, [text]);
      const entry = held.get(target);
      if (entry) {
        entry.texts.push(text);
        entry.size += text.length;
      } else held.set(target, { texts: [text], size: text.length });
      timer ??= setTimeout(flush, windowMs);
    },
    /** What is held for the target, not written yet: part of its backlog. */
    heldSize: (target: FrameTarget): number => held.get(target)?.size ?? 0,
    /** Writes what the target holds now: before anything `ws` sends it, so that nothing passes an event. */
    release(target: FrameTarget): void {
      const entry = held.get(target);
      if (!entry) return;
      held.delete(target);
      write(target, entry.texts);
    },
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
