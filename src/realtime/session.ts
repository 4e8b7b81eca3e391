/**
 * One WebSocket client: its authentication, its subscriptions and what it is sent. Knows the
 * protocol, not the transport: `ws-route.ts` gives it a `send` and a `close`.
 *
 * Client → server: `{"action": "auth" | "subscribe" | "unsubscribe" | "ping", …}`.
 * Server → client: events `{"type", "timestamp", "published_at", "subscription", "seq", "data"}`
 * (`timestamp` is the event's own time, `data.at`; `published_at` when the hub was given it, right
 * after the producing commit; seq counts this socket's events from 1, so a gap shows a loss), and replies `{"type": "subscribed" |
 * "unsubscribed" | "pong" | "authenticated" | "error", …}`. A malformed message gets an `error`
 * naming what is wrong; the socket stays open.
 */
import type { Actor } from '../auth/actor.js';
import type { Db } from '../db/database.js';
import { createCoalescer, type Scheduler } from './coalescer.js';
import { compileFilter, FilterError, parseFilters, parseTopic, type SubscriptionRequest } from './filters.js';
import type { Hub } from './hub.js';
import { TOPIC_SPECS, type CoalesceKey, type RealtimeEvent } from './topics.js';

/** Subscriptions one socket may hold at most. */
export const MAX_SUBSCRIPTIONS = 100;
const MAX_ID_LENGTH = 100;
/** How often a tags filter's monitors are read again (tags are not carried by events). */
const TAGS_REFRESH_MS = 30_000;

export interface SessionDeps {
  hub: Hub;
  db: Db;
  scheduler: Scheduler;
  coalesceMs: number;
  /** Coalesced topics' subscriptions without a filter on values subscribe here (shared-coalescing.ts). */
  sharedCoalescing?: { subscribe: Hub['subscribe'] };
  /** Turns an `auth` message's token into an actor, or throws with a message for the client. */
  authenticate(token: { bearer?: string; apiKey?: string }): Promise<Actor>;
  /** Sends one reply (a JSON message); returns false when the socket was cut instead (slow consumer). */
  send(message: object): boolean;
  /** Sends one event: the JSON text `prefix` + `seq` + `body`; returns false when the socket was cut instead. */
  sendEvent(prefix: Buffer, seq: number, body: Buffer): boolean;
  /** Closes the socket (a refused `auth`). */
  close(code: number, reason: string): void;
}

interface Subscription {
  request: SubscriptionRequest;
  stop(): void;
}

export class ProtocolError extends Error {}

/**
 * An event's message is `{"subscription":…,"seq":` (its subscription's prefix, made once), its
 * seq, then its body: `,"type":…,"timestamp":…,"published_at":…,"data":{…}}`, encoded once
 * however many sockets it goes to (the hub hands every listener the same object).
 */
const bodies = new WeakMap<object, Buffer>();

function bodyOf(event: RealtimeEvent): Buffer {
  let body = bodies.get(event.data);
  if (body === undefined) {
    const published = event.publishedAt === undefined ? '' : `"published_at":"${new Date(event.publishedAt).toISOString()}",`;
    body = Buffer.from(`,"type":${JSON.stringify(TOPIC_SPECS[event.topic].messageType)},"timestamp":"${new Date(event.data.at).toISOString()}",${published}"data":${JSON.stringify(event.data)}}`);
    bodies.set(event.data, body);
  }
  return body;
}

const prefixOf = (subscriptionId: string) => Buffer.from(`{"subscription":${JSON.stringify(subscriptionId)},"seq":`);

function requireString(message: Record<string, unknown>, field: string): string {
  const value = message[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) throw new ProtocolError(`${field} must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  return value;
}

/** Whether an actor may use the WebSocket API: reading is what it does (an ingest key may not). */
export const canSubscribe = (actor: Actor): boolean => actor.permissions.has('read');

export function createSession(deps: SessionDeps, initialActor: Actor | null) {
  let actor = initialActor;
  let seq = 0;
  let closed = false;
  const subscriptions = new Map<string, Subscription>();

  const reply = (message: object) => !closed && deps.send(message);
  const error = (detail: string, id?: string) => reply({ type: 'error', ...(id !== undefined && { id }), detail });

  function emit(prefix: Buffer, event: RealtimeEvent): void {
    if (closed) return;
    seq++;
    deps.sendEvent(prefix, seq, bodyOf(event));
  }

  async function taggedMonitors(tenantId: string, tags: ReadonlySet<string>): Promise<Set<string>> {
    const rows = await deps.db
      .selectFrom('monitor_tags')
      .select('monitor_id')
      .where('tenant_id', '=', tenantId)
      .where('tag', 'in', [...tags])
      .execute();
    return new Set(rows.map((row) => row.monitor_id));
  }

  async function subscribe(message: Record<string, unknown>): Promise<void> {
    const id = requireString(message, 'id');
    if (subscriptions.has(id)) throw new ProtocolError(`a subscription with id "${id}" exists already: unsubscribe it first`);
    if (subscriptions.size >= MAX_SUBSCRIPTIONS) throw new ProtocolError(`at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`);
    const topic = parseTopic(message.stream_type);
    const request: SubscriptionRequest = { id, topic, ...parseFilters(topic, message.filters) };
    const tenantId = actor!.tenantId;
    const spec = TOPIC_SPECS[topic];

    let tagged: Set<string> | undefined;
    let stopTags = () => {};
    const tags = request.lists.tags;
    if (tags) {
      tagged = await taggedMonitors(tenantId, tags);
      const refresh = () => {
        stopTags = deps.scheduler.schedule(() => {
          taggedMonitors(tenantId, tags).then(
            (next) => (tagged = next),
            () => {},
          );
          refresh();
        }, TAGS_REFRESH_MS);
      };
      refresh();
    }
    if (closed || subscriptions.has(id)) return;

    const coalesceKey = spec.coalesceKey as ((data: unknown) => CoalesceKey) | undefined;
    const prefix = prefixOf(id);
    const coalesced = coalesceKey !== undefined && deps.coalesceMs > 0;
    // A states filter looks at each value: coalesced before it, a down held behind a later up would be lost.
    const shared = coalesced && deps.sharedCoalescing !== undefined && request.lists.states === undefined;
    const coalescer = coalesced && !shared ? createCoalescer<RealtimeEvent>(deps.coalesceMs, deps.scheduler, (event) => emit(prefix, event)) : undefined;
    const wanted = compileFilter(request);
    // A monitor_ids filter is also given to the hub, which then hands this listener only those monitors' events.
    const monitorIds = request.lists.monitor_ids;
    const unsubscribe = (shared ? deps.sharedCoalescing! : deps.hub).subscribe(
      tenantId,
      topic,
      (event) => {
        if (!wanted(event, tagged)) return;
        if (coalescer) coalescer.offer(coalesceKey!(event.data), event);
        else emit(prefix, event);
      },
      monitorIds ? { monitorIds } : {},
    );
    subscriptions.set(id, {
      request,
      stop() {
        unsubscribe();
        coalescer?.stop();
        stopTags();
      },
    });
    const ready = (unsubscribe as { ready?: Promise<void> }).ready;
    if (ready) await ready;
    reply({ type: 'subscribed', id, stream_type: topic });
  }

  async function handle(message: Record<string, unknown>): Promise<void> {
    const action = message.action;
    if (action === 'ping') {
      reply({ type: 'pong', ...(typeof message.id === 'string' && { id: message.id }) });
      return;
    }
    if (action === 'auth') {
      if (actor) throw new ProtocolError('already authenticated');
      const token = typeof message.token === 'string' ? message.token : undefined;
      const apiKey = typeof message.api_key === 'string' ? message.api_key : undefined;
      if (!token && !apiKey) throw new ProtocolError('auth needs a token (a JWT) or an api_key');
      const who = await deps.authenticate({ ...(token !== undefined && { bearer: token }), ...(apiKey !== undefined && { apiKey }) });
      actor = who;
      reply({ type: 'authenticated', tenant_id: who.tenantId });
      return;
    }
    if (action !== 'subscribe' && action !== 'unsubscribe') {
      throw new ProtocolError(`action must be one of auth, subscribe, unsubscribe, ping; got ${JSON.stringify(action) ?? 'nothing'}`);
    }
    if (!actor) throw new ProtocolError('not authenticated: send {"action": "auth", "token": "…"} first');
    if (action === 'subscribe') return subscribe(message);
    const id = requireString(message, 'id');
    const subscription = subscriptions.get(id);
    if (!subscription) throw new ProtocolError(`no subscription with id "${id}"`);
    subscription.stop();
    subscriptions.delete(id);
    reply({ type: 'unsubscribed', id });
  }

  return {
    get authenticated(): boolean {
      return actor !== null;
    },
    /** One text frame from the client. Errors go back to it as `error` messages. */
    async receive(text: string): Promise<void> {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        error('message is not valid JSON');
        return;
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        error('message must be a JSON object with an "action"');
        return;
      }
      const fields = message as Record<string, unknown>;
      try {
        await handle(fields);
      } catch (failure) {
        if (failure instanceof ProtocolError || failure instanceof FilterError) error(failure.message, typeof fields.id === 'string' ? fields.id : undefined);
        else if (failure instanceof AuthRefused) {
          error(failure.message);
          deps.close(failure.code, failure.message);
        } else throw failure;
      }
    },
    close(): void {
      closed = true;
      for (const subscription of subscriptions.values()) subscription.stop();
      subscriptions.clear();
    },
  };
}

/** Thrown by `authenticate` when a token is refused; the message is told to the client. */
export class AuthRefused extends Error {
  constructor(
    message: string,
    /** 4401: not authenticated; 4403: authenticated but not allowed (an ingest key). */
    readonly code: 4401 | 4403,
  ) {
    super(message);
  }
}

export type Session = ReturnType<typeof createSession>;
