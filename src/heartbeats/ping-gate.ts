/**
 * What every way a ping arrives shares in one process (HTTP `/ping/…` and e-mail pings): the
 * per-check limit PING_RATE_LIMIT_PER_MINUTE, counted over all of them together (a check cannot
 * dodge its limit by e-mail), and the /metrics counters of pings received and refused. One gate
 * per heartbeat services object: the routes and the SMTP listener are both given that object.
 */
import type { Clock } from '../clock.js';
import { createWindowCounter, type WindowCounter } from '../http/window-counter.js';
import type { Observability } from '../observability/observability.js';

const MINUTE_MS = 60_000;

export interface PingGate {
  /**
   * The per-check counter, keyed by ping UUID. The limit is configuration, which kinds' services
   * are not given: the callers pass PING_RATE_LIMIT_PER_MINUTE, and one limit gives one counter.
   */
  checkPings(limitPerMinute: number): WindowCounter;
  /** A ping stored, by the kind it was recorded as. */
  received(kind: string): void;
  /** A ping refused, not stored. */
  refused(reason: 'check_rate' | 'client_misses'): void;
}

export function createPingGate({ clock, observability }: { clock: Clock; observability: Pick<Observability, 'pingReceived' | 'pingRefused'> }): PingGate {
  const counters = new Map<number, WindowCounter>();
  return {
    checkPings(limitPerMinute) {
      let counter = counters.get(limitPerMinute);
      if (!counter) {
        counter = createWindowCounter({ limit: limitPerMinute, windowMs: MINUTE_MS, now: () => clock.now() });
        counters.set(limitPerMinute, counter);
      }
      return counter;
    },
    received: (kind) => observability.pingReceived(kind),
    refused: (reason) => observability.pingRefused(reason),
  };
}
