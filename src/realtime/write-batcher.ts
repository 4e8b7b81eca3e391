/**
 * Gathers what is sent to each socket during a short window into one write. Writing a frame
 * costs a system call (and, on loopback, the receiver's wake-up) whatever its size: at 100
 * clients that each get a few hundred small events a second, those calls were most of what the
 * realtime API cost (a profile of bench:realtime: `writev` under each `send`). The first message
 * of a window corks the socket's TCP stream (Node buffers the writes), and one timer for the
 * whole process uncorks every corked socket when the window ends: their frames leave in one
 * `writev` each. An event waits at most the window (10 ms by default), well inside the latency
 * goal (p99 < 100 ms). Held bytes count in the socket's `bufferedAmount`: before a socket past
 * its send buffer is judged slow, what it holds is written (`release`), so a burst bigger than
 * the buffer within one window does not cut a client that reads.
 */
import type { Duplex } from 'node:stream';

export const DEFAULT_WRITE_WINDOW_MS = 10;

export function createWriteBatcher(windowMs: number = DEFAULT_WRITE_WINDOW_MS) {
  const corked = new Set<Duplex>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    timer = undefined;
    for (const stream of corked) stream.uncork();
    corked.clear();
  }

  return {
    /** Call before writing to `stream`: its writes until the window ends go out together. */
    hold(stream: Duplex): void {
      if (windowMs <= 0 || corked.has(stream) || stream.destroyed) return;
      stream.cork();
      corked.add(stream);
      timer ??= setTimeout(flush, windowMs);
    },
    /** Writes what `stream` holds now: past its send buffer, before judging it slow (held bytes count in bufferedAmount). */
    release(stream: Duplex): void {
      if (corked.delete(stream)) stream.uncork();
    },
    /** Writes what every stream holds now (the server stopping). */
    flush(): void {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}
