/**
 * The realtime topics, defined once: their names (what a client puts in `stream_type`), the
 * `type` of the messages they carry, their payloads, which filters apply to them and whether
 * they are coalesced. The hub, the WebSocket API, its filters and the OpenAPI description all
 * read this list, so a topic added here is everywhere at once.
 */
import type { MonitorKind, MonitorState, ResultStatus } from '../monitors/kinds.js';

export const TOPICS = ['results', 'monitors', 'incidents', 'alerts', 'notifications', 'pings', 'machines', 'metrics', 'system_status'] as const;
export type Topic = (typeof TOPICS)[number];

/** Every filter a subscription may give; each is a list, and an item matches when its field is in the list. */
export const FILTERS = ['monitor_ids', 'kinds', 'states', 'tags', 'severities', 'alert_levels', 'machine_ids', 'series_names', 'labels', 'container_ids', 'service_names'] as const;
export type FilterName = (typeof FILTERS)[number];

/** What every monitor-related payload carries, so that filters need no database read per event. */
interface MonitorRef {
  monitor_id: string;
  kind: MonitorKind;
  /** A container's or service's name, for kinds that have them (container kinds, later issues). */
  container_id?: string;
  service_name?: string;
}

export interface ResultPayload extends MonitorRef {
  at: number;
  status: ResultStatus;
  latency_ms: number | null;
  value: number | null;
  message: string;
}

export interface MonitorStatePayload extends MonitorRef {
  flip_id: string;
  from_state: MonitorState;
  state: MonitorState;
  at: number;
  reason: string | null;
}

export interface IncidentPayload extends MonitorRef {
  incident_id: string;
  action: 'opened' | 'escalated' | 'resolved' | 'acknowledged';
  /** The incident's level: `warning` or `critical`. */
  severity: 'warning' | 'critical';
  at: number;
}

export interface AlertPayload extends MonitorRef {
  flip_id: string;
  from_state: MonitorState;
  to_state: MonitorState;
  /** The seed's `level`. */
  level: 'warning' | 'critical';
  resolved: boolean;
  reason: string | null;
  at: number;
}

export interface NotificationPayload {
  notification_id: string;
  channel_id: string;
  monitor_id: string | null;
  outcome: 'sent' | 'retry' | 'failed';
  at: number;
}

export interface PingPayload extends MonitorRef {
  ping_kind: string;
  at: number;
  duration_ms: number | null;
}

export interface MachinePayload extends MonitorRef {
  machine_id: string;
  state: MonitorState;
  at: number;
}

export interface MetricPayload {
  machine_id: string;
  series_id: number;
  name: string;
  labels: Record<string, string>;
  at: number;
  value: number | null;
  text: string | null;
  container_id?: string;
  service_name?: string;
}

export interface SystemStatusPayload extends MonitorRef {
  name: string | null;
  state: MonitorState;
  at: number;
}

export interface TopicPayloads {
  results: ResultPayload;
  monitors: MonitorStatePayload;
  incidents: IncidentPayload;
  alerts: AlertPayload;
  notifications: NotificationPayload;
  pings: PingPayload;
  machines: MachinePayload;
  metrics: MetricPayload;
  system_status: SystemStatusPayload;
}

/**
 * One event as the hub carries it: the tenant routes it, the key coalesces it. `publishedAt` is
 * set by the hub when it is given the event (epoch ms): producers publish right after their
 * transaction commits, so it is when the event became true in the database. Clients get it as
 * `published_at`, and latency is measured from it (an event's own `at` can be much older: a
 * check result's `at` is when its probe started).
 */
export type RealtimeEvent = {
  [T in Topic]: { topic: T; tenantId: string; data: TopicPayloads[T]; publishedAt?: number };
}[Topic];

/** What a coalesced topic's events are told apart by: a monitor id, a series id (a number: no string made per event and subscriber). */
export type CoalesceKey = string | number;

export interface TopicSpec {
  /** The `type` of the messages a client receives for it. */
  readonly messageType: string;
  readonly description: string;
  readonly filters: readonly FilterName[];
  /** Coalesced topics reach a subscriber at most once per interval per key, with the latest value. */
  readonly coalesceKey?: (data: never) => CoalesceKey;
}

const MONITOR_FILTERS = ['monitor_ids', 'kinds', 'tags', 'container_ids', 'service_names'] as const satisfies readonly FilterName[];

export const TOPIC_SPECS: { readonly [T in Topic]: TopicSpec & { coalesceKey?: (data: TopicPayloads[T]) => CoalesceKey } } = {
  results: {
    messageType: 'result',
    description: 'Each check result recorded (coalesced per monitor).',
    filters: [...MONITOR_FILTERS, 'states'],
    coalesceKey: (data) => data.monitor_id,
  },
  monitors: { messageType: 'monitor_state', description: 'A monitor changed state (a flip: pause, resume, up, down, warning…).', filters: [...MONITOR_FILTERS, 'states'] },
  incidents: {
    messageType: 'incident',
    description: 'An incident opened, escalated, acknowledged or resolved.',
    filters: [...MONITOR_FILTERS, 'severities', 'alert_levels'],
  },
  alerts: { messageType: 'alert', description: 'An alert event (the seeds\' "alert"): a failing flip or its recovery.', filters: [...MONITOR_FILTERS, 'severities', 'alert_levels', 'states'] },
  notifications: { messageType: 'notification', description: 'What became of a notification attempt (sent, retry, failed).', filters: ['monitor_ids'] },
  pings: { messageType: 'ping', description: 'A heartbeat ping was received.', filters: MONITOR_FILTERS },
  machines: { messageType: 'machine_status', description: 'A machine (agent) came up or went silent.', filters: [...MONITOR_FILTERS, 'machine_ids', 'states'] },
  metrics: {
    messageType: 'metrics_update',
    description: 'Samples ingested from agents (coalesced per series).',
    filters: ['machine_ids', 'series_names', 'labels', 'container_ids', 'service_names'],
    coalesceKey: (data) => data.series_id,
  },
  system_status: { messageType: 'system_status', description: "Vigie's own parts (monitors of kind self) changed state.", filters: ['monitor_ids', 'states'] },
};
