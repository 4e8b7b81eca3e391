/**
 * The hub every part of Vigie publishes to, and the WebSocket API subscribes to. Two members,
 * two implementations: in-process (embedded mode, below) and Redis pub/sub (redis-hub.ts, when
 * REDIS_URL is set) so that a socket on one `vigie serve` sees what another process produced.
 *
 * Publishing is cheap and never blocks: an event for a tenant and topic nobody here listens to
 * is dropped at once (two map lookups); others go into a bounded queue delivered on the next
 * turn of the event loop, so the producer's hot path (a ping batch, an ingest commit) does not
 * wait for sockets. Subscriptions are indexed by tenant, topic and (monitor_ids filters) monitor:
 * delivery costs what the matching subscribers cost, not what all of them do. Events are published after the producing
 * transaction commits (see staged.ts), so nobody is told of a write that rolled back.
 */
import { meterRealtime } from './cpu-meter.js';
import type { RealtimeEvent, Topic } from './topics.js';

export type HubListener = (event: RealtimeEvent) => void;

/** What the hub may index a listener by, so that events it does not want cost it nothing. */
export interface SubscribeOptions {
  /** The listener wants only events whose `data.monitor_id` is one of these (a `monitor_ids` filter). */
  monitorIds?: ReadonlySet<string>;
}

export interface Hub {
  /** Never throws, never waits: events beyond the hub's buffer are dropped (and counted). Stamps each event's `publishedAt`. */
  publish(...events: RealtimeEvent[]): void;
  /** Returns the function that ends the subscription. */
  subscribe(tenantId: string, topic: Topic, listener: HubListener, options?: SubscribeOptions): () => void;
}

export interface ClosableHub extends Hub {
  close(): Promise<void>;
  /** Events dropped because the buffer was full (a stalled event loop, or Redis away). */
  dropped(): number;
}

/** Events waiting for delivery at most; past it the newest are dropped rather than memory grown. */
export const DEFAULT_HUB_BUFFER = 10_000;

/** The listeners of one tenant and topic: those that want every event, and those that want some monitors' only. */
interface TopicListeners {
  all: Set<HubListener>;
  byMonitor: Map<string, Set<HubListener>>;
  size: number;
}

/**
 * Listeners by tenant, then topic, then (for those with a monitor_ids filter) monitor: an event
 * reaches the listeners that want all of its tenant's topic and those of its own monitor, so
 * delivering it costs what the matching listeners cost, however many others there are (fifty
 * dashboards each following a hundred monitors cost a result nothing but a map lookup). Shared
 * by both implementations (Redis delivers locally through it).
 */
export function createSubscriptionIndex(onListenerError: (error: unknown) => void = () => {}) {
  const byTenant = new Map<string, Map<Topic, TopicListeners>>();
  const call = (listener: HubListener, event: RealtimeEvent) => {
    try {
      listener(event);
    } catch (error) {
      onListenerError(error);
    }
  };
  return {
    has(tenantId: string, topic: Topic): boolean {
      return (byTenant.get(tenantId)?.get(topic)?.size ?? 0) > 0;
    },
    /** Returns true when this is the first listener of the tenant and topic. */
    add(tenantId: string, topic: Topic, listener: HubListener, monitorIds?: ReadonlySet<string>): boolean {
      let topics = byTenant.get(tenantId);
      if (!topics) byTenant.set(tenantId, (topics = new Map<Topic, TopicListeners>()));
      let listeners = topics.get(topic);
      if (!listeners) topics.set(topic, (listeners = { all: new Set(), byMonitor: new Map(), size: 0 }));
      if (monitorIds) {
        for (const id of monitorIds) {
          let set = listeners.byMonitor.get(id);
          if (!set) listeners.byMonitor.set(id, (set = new Set()));
          set.add(listener);
        }
      } else listeners.all.add(listener);
      return ++listeners.size === 1;
    },
    /** Takes the same `monitorIds` as `add`. Returns true when the tenant and topic have no listener left. */
    remove(tenantId: string, topic: Topic, listener: HubListener, monitorIds?: ReadonlySet<string>): boolean {
      const topics = byTenant.get(tenantId);
      const listeners = topics?.get(topic);
      if (!topics || !listeners) return false;
      if (monitorIds) {
        let found = false;
        for (const id of monitorIds) {
          const set = listeners.byMonitor.get(id);
          if (!set?.delete(listener)) continue;
          found = true;
          if (set.size === 0) listeners.byMonitor.delete(id);
        }
        if (!found) return false;
      } else if (!listeners.all.delete(listener)) return false;
      if (--listeners.size > 0) return false;
      topics.delete(topic);
      if (topics.size === 0) byTenant.delete(tenantId);
      return true;
    },
    deliver(event: RealtimeEvent): void {
      const listeners = byTenant.get(event.tenantId)?.get(event.topic);
      if (!listeners) return;
      meterRealtime(() => {
        for (const listener of listeners.all) call(listener, event);
        if (listeners.byMonitor.size === 0) return;
        const monitorId = (event.data as { monitor_id?: unknown }).monitor_id;
        const some = typeof monitorId === 'string' ? listeners.byMonitor.get(monitorId) : undefined;
        if (some) for (const listener of some) call(listener, event);
      });
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
    subscribe(tenantId, topic, listener, options = {}) {
      index.add(tenantId, topic, listener, options.monitorIds);
      return () => void index.remove(tenantId, topic, listener, options.monitorIds);
    },
    async close() {
      queue = [];
    },
    dropped: () => dropped,
  };
}

/** A hub that carries nothing: for tools and tests that build services without realtime. */
export const silentHub: Hub = { publish() {}, subscribe: () => () => {} };
