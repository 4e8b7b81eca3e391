/**
 * Coalescing done once per tenant and topic for every subscription of this process that wants
 * it, instead of once per subscription: with 50 dashboards following all results and metrics of
 * a tenant, each event was offered to 50 coalescers, and those offers were the realtime path's
 * largest cost (a third of it in a bench:realtime profile). A stage per (tenant, topic) takes the
 * topic's events from the hub, coalesces them per key (coalescer.ts), and delivers what it lets
 * through to its subscriptions through their own index (a `monitor_ids` filter still costs a map
 * lookup). The stage lives while it has a subscription.
 *
 * Coalescing before a subscription's filter is only right when the filter keeps or drops a key
 * whole (monitor ids, kinds, tags, machines, series names and labels): a `states` filter on
 * results looks at each value, and coalesced first it would miss a down held behind a later up.
 * Such a subscription keeps its own coalescer (session.ts). What changes for a subscription that
 * shares a stage: its first value of a key another subscription was sent within the interval comes
 * at the end of that interval, with the latest value, not at once.
 */
import type { Hub, HubListener, SubscribeOptions } from './hub.js';
import { createSubscriptionIndex } from './hub.js';
import { createCoalescer, type Scheduler } from './coalescer.js';
import { TOPIC_SPECS, type CoalesceKey, type RealtimeEvent, type Topic } from './topics.js';

export type Subscribe = Hub['subscribe'];

interface Stage {
  index: ReturnType<typeof createSubscriptionIndex>;
  stop(): void;
  ready?: Promise<void>;
}

export function createSharedCoalescing(hub: Hub, intervalMs: number, scheduler: Scheduler): { subscribe: Subscribe } {
  const stages = new Map<string, Stage>();

  function open(tenantId: string, topic: Topic): Stage {
    const index = createSubscriptionIndex();
    const keyOf = TOPIC_SPECS[topic].coalesceKey as (data: unknown) => CoalesceKey;
    const coalescer = createCoalescer<RealtimeEvent>(intervalMs, scheduler, (event) => index.deliver(event));
    const unsubscribe = hub.subscribe(tenantId, topic, (event) => coalescer.offer(keyOf(event.data), event));
    const ready = (unsubscribe as { ready?: Promise<void> }).ready;
    return {
      index,
      stop() {
        unsubscribe();
        coalescer.stop();
      },
      ...(ready && { ready }),
    };
  }

  return {
    subscribe(tenantId: string, topic: Topic, listener: HubListener, options: SubscribeOptions = {}) {
      const name = `${tenantId}\u0000${topic}`;
      let stage = stages.get(name);
      if (!stage) stages.set(name, (stage = open(tenantId, topic)));
      const current = stage;
      current.index.add(tenantId, topic, listener, options.monitorIds);
      const unsubscribe = () => {
        if (!current.index.remove(tenantId, topic, listener, options.monitorIds)) return;
        current.stop();
        if (stages.get(name) === current) stages.delete(name);
      };
      return current.ready ? Object.assign(unsubscribe, { ready: current.ready }) : unsubscribe;
    },
  };
}
