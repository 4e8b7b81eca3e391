/**
 * The hub every part of Vigie publishes to, and the WebSocket API subscribes to. Two members,
 * two implementations: in-process (embedded mode, below) and Redis pub/sub (redis-hub.ts, when
 * REDIS_URL is set) so that a socket on one `vigie serve` sees what another process produced.
 *
 * Publishing is cheap and never blocks: an event for a tenant and topic nobody here listens to
 * is dropped at once (two map lookups); others go into a bounded queue delivered on the next
 * turn of the event loop, so the producer's hot path (a ping batch, an ingest commit) does not
 * wait for sockets. Subscriptions are indexed by tenant, then topic: delivery costs what the
 * matching subscribers cost, not what all of them do. Events are published after the producing
 * transaction commits (see staged.ts), so nobody is told of a write that rolled back.
 */
import type { RealtimeEvent, Topic } from './topics.js';

export type HubListener = (event: RealtimeEvent) => void;

export interface Hub {
  /** Never throws, never waits: events beyond the hub's buffer are dropped (and counted). Stamps each event's `publishedAt`. */
  publish(...events: RealtimeEvent[]): void;
  /** Returns the function that ends the subscription. */
  subscribe(tenantId: string, topic: Topic, listener: HubListener): () => void;
}

export interface ClosableHub extends Hub {
  close(): Promise<void>;
  /** Events dropped because the buffer was full (a stalled event loop, or Redis away). */
  dropped(): number;
}

/** Events waiting for delivery at most; past it the newest are dropped rather than memory grown. */
export const DEFAULT_HUB_BUFFER = 10_000;

/** Listeners by tenant, then topic. Shared by both implementations (Redis delivers locally through it). */
export function createSubscriptionIndex(onListenerError: (error: unknown) => void = () => {}) {
  const byTenant = new Map<string, Map<Topic, Set<HubListener>>>();
  return {
    has(tenantId: string, topic: Topic): boolean {
      return (byTenant.get(tenantId)?.get(topic)?.size ?? 0) > 0;
    },
    /** Returns true when this is the first listener of the tenant and topic. */
    add(tenantId: string, topic: Topic, listener: HubListener): boolean {
      let topics = byTenant.get(tenantId);
      if (!topics) byTenant.set(tenantId, (topics = new Map<Topic, Set<HubListener>>()));
      let listeners = topics.get(topic);
      if (!listeners) topics.set(topic, (listeners = new Set<HubListener>()));
      listeners.add(listener);
      return listeners.size === 1;
    },
    /** Returns true when the tenant and topic have no listener left. */
    remove(tenantId: string, topic: Topic, listener: HubListener): boolean {
      const topics = byTenant.get(tenantId);
      const listeners = topics?.get(topic);
      if (!topics || !listeners || !listeners.delete(listener)) return false;
      if (listeners.size > 0) return false;
      topics.delete(topic);
      if (topics.size === 0) byTenant.delete(tenantId);
      return true;
    },
    deliver(event: RealtimeEvent): void {
      const listeners = byTenant.get(event.tenantId)?.get(event.topic);
      if (!listeners) return;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}

export type SubscriptionIndex = ReturnType<typeof createSubscriptionIndex>;

export interface InProcessHubOptions {
  bufferSize?: number;
  onListenerError?: (error: unknown) => void;
}

export function createInProcessHub({ bufferSize = DEFAULT_HUB_BUFFER, onListenerError }: InProcessHubOptions = {}): ClosableHub {
  const index = createSubscriptionIndex(onListenerError);
  let queue: RealtimeEvent[] = [];
  let scheduled = false;
  let dropped = 0;

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const event of batch) index.deliver(event);
  }

  return {
    publish(...events) {
      const now = Date.now();
      for (const event of events) {
        if (!index.has(event.tenantId, event.topic)) continue;
        event.publishedAt ??= now;
        if (queue.length >= bufferSize) {
          dropped++;
          continue;
        }
        queue.push(event);
      }
      if (queue.length > 0 && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    subscribe(tenantId, topic, listener) {
      index.add(tenantId, topic, listener);
      return () => void index.remove(tenantId, topic, listener);
    },
    async close() {
      queue = [];
    },
    dropped: () => dropped,
  };
}

/** A hub that carries nothing: for tools and tests that build services without realtime. */
export const silentHub: Hub = { publish() {}, subscribe: () => () => {} };
