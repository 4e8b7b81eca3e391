/**
 * The hub over Redis pub/sub, for several Vigie processes (REDIS_URL). One channel per tenant
 * and topic (`<prefix>:<tenant>:<topic>`); a process subscribes only to the channels its own
 * sockets listen to, so Redis sends it only what it will deliver. Its own events come back to it
 * through Redis like everyone else's, so every socket sees one order, whichever process produced.
 *
 * Publishing never waits: the command goes into ioredis' queue and the producer goes on. Events
 * are counted while Redis has not acknowledged them; past the buffer they are dropped (a Redis
 * outage must not grow the producer's memory). Realtime events are a live view, not a record:
 * what was missed is read back from the REST routes.
 */
import { Redis } from 'ioredis';
import { createSubscriptionIndex, DEFAULT_HUB_BUFFER, type ClosableHub } from './hub.js';
import { TOPICS, type RealtimeEvent, type Topic } from './topics.js';

export interface RedisHubOptions {
  url: string;
  /** Channels are named `<prefix>:<tenant>:<topic>`; tests use a unique prefix per run. */
  prefix: string;
  bufferSize?: number;
  onError?: (error: unknown) => void;
}

export function createRedisHub({ url, prefix, bufferSize = DEFAULT_HUB_BUFFER, onError = () => {} }: RedisHubOptions): ClosableHub {
  const index = createSubscriptionIndex(onError);
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  publisher.on('error', onError);
  subscriber.on('error', onError);
  let inFlight = 0;
  const subscribing = new Map<string, Promise<void>>();
  let dropped = 0;
  const channelOf = (tenantId: string, topic: Topic) => `${prefix}:${tenantId}:${topic}`;
  const head = `${prefix}:`;

  subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(head)) return;
    let events: RealtimeEvent[];
    try {
      events = JSON.parse(message) as RealtimeEvent[];
    } catch (error) {
      onError(error);
      return;
    }
    if (!Array.isArray(events)) return;
    for (const event of events) {
      if (typeof event?.tenantId !== 'string' || !(TOPICS as readonly string[]).includes(event.topic)) continue;
      index.deliver(event);
    }
  });

  const settle = () => {
    inFlight--;
  };
  const failed = (error: unknown) => {
    inFlight--;
    onError(error);
  };

  return {
    // One message per channel per call: an ingest batch of a thousand samples is one PUBLISH.
    publish(...events) {
      const byChannel = new Map<string, RealtimeEvent[]>();
      const now = Date.now();
      for (const event of events) {
        event.publishedAt ??= now; // in the producing process: the time crosses Redis with the event
        const channel = channelOf(event.tenantId, event.topic);
        const list = byChannel.get(channel);
        if (list) list.push(event);
        else byChannel.set(channel, [event]);
      }
      for (const [channel, list] of byChannel) {
        if (inFlight >= bufferSize) {
          dropped += list.length;
          continue;
        }
        inFlight++;
        publisher.publish(channel, JSON.stringify(list)).then(settle, failed);
      }
    },
    // The returned function carries `ready`: settled once Redis has acknowledged the channel's
    // SUBSCRIBE, so the API acknowledges a subscription only when events can reach it.
    subscribe(tenantId, topic, listener, { monitorIds } = {}) {
      const channel = channelOf(tenantId, topic);
      if (index.add(tenantId, topic, listener, monitorIds)) {
        subscribing.set(
          channel,
          subscriber.subscribe(channel).then(
            () => undefined,
            (error: unknown) => onError(error),
          ),
        );
      }
      const unsubscribe = () => {
        if (index.remove(tenantId, topic, listener, monitorIds)) {
          subscribing.delete(channel);
          subscriber.unsubscribe(channel).catch(onError);
        }
      };
      return Object.assign(unsubscribe, { ready: subscribing.get(channel) ?? Promise.resolve() });
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
    dropped: () => dropped,
  };
}
