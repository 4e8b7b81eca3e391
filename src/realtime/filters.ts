/**
 * Subscription filters, checked once when a client subscribes and evaluated on the server for
 * each event. A filter is a list; an event matches when, for every filter given, its field is in
 * the list (`labels`: every given label has the given value). `tags` is resolved to the tenant's
 * monitor ids by the session (tags are not carried by events), then matched on `monitor_id`.
 */
import { MONITOR_KINDS, MONITOR_STATES } from '../monitors/kinds.js';
import { FILTERS, TOPIC_SPECS, TOPICS, type FilterName, type RealtimeEvent, type Topic } from './topics.js';

const LEVELS = ['warning', 'critical'] as const;
const MAX_ITEMS = 1000;

/** What a subscribe message asked for, checked. */
export interface SubscriptionRequest {
  id: string;
  topic: Topic;
  lists: Partial<Record<Exclude<FilterName, 'labels'>, ReadonlySet<string>>>;
  labels?: Readonly<Record<string, string>>;
}

export class FilterError extends Error {}

const ALLOWED_VALUES: Partial<Record<FilterName, readonly string[]>> = {
  kinds: MONITOR_KINDS,
  states: [...MONITOR_STATES, 'up', 'down', 'warning'],
  severities: LEVELS,
  alert_levels: LEVELS,
};

export function parseTopic(value: unknown): Topic {
  if (typeof value !== 'string' || !(TOPICS as readonly string[]).includes(value)) {
    throw new FilterError(`stream_type must be one of ${TOPICS.join(', ')}; got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value as Topic;
}

export function parseFilters(topic: Topic, raw: unknown): Pick<SubscriptionRequest, 'lists' | 'labels'> {
  if (raw === undefined || raw === null) return { lists: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new FilterError('filters must be an object');
  const allowed = TOPIC_SPECS[topic].filters;
  const lists: SubscriptionRequest['lists'] = {};
  let labels: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(FILTERS as readonly string[]).includes(name)) throw new FilterError(`filters.${name} is not a filter; filters are ${FILTERS.join(', ')}`);
    if (!(allowed as readonly string[]).includes(name)) throw new FilterError(`filters.${name} does not apply to ${topic}; its filters are ${allowed.join(', ')}`);
    if (name === 'labels') {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value as Record<string, unknown>).every((v) => typeof v === 'string')) {
        throw new FilterError('filters.labels must be an object of label names to string values');
      }
      labels = { ...(value as Record<string, string>) };
      continue;
    }
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ITEMS || !value.every((v) => typeof v === 'string')) {
      throw new FilterError(`filters.${name} must be a list of 1 to ${MAX_ITEMS} strings`);
    }
    const choices = ALLOWED_VALUES[name as FilterName];
    const wrong = choices ? (value as string[]).find((v) => !choices.includes(v)) : undefined;
    if (wrong !== undefined) throw new FilterError(`filters.${name}: "${wrong}" is not one of ${choices!.join(', ')}`);
    lists[name as Exclude<FilterName, 'labels'>] = new Set(value as string[]);
  }
  return { lists, ...(labels && { labels }) };
}

/** The event's field each filter reads. */
const FIELD: Record<Exclude<FilterName, 'labels' | 'tags'>, (data: Record<string, unknown>) => unknown> = {
  monitor_ids: (d) => d.monitor_id,
  kinds: (d) => d.kind,
  states: (d) => d.state ?? d.to_state ?? d.status,
  severities: (d) => d.severity ?? d.level,
  alert_levels: (d) => d.level ?? d.severity,
  machine_ids: (d) => d.machine_id,
  series_names: (d) => d.name,
  container_ids: (d) => d.container_id,
  service_names: (d) => d.service_name,
};

/** Whether an event matches; `taggedMonitors`: the tenant's monitors carrying one of the subscription's tags (when it has a tags filter). */
export type EventFilter = (event: RealtimeEvent, taggedMonitors?: ReadonlySet<string>) => boolean;

const everything: EventFilter = () => true;

/**
 * The request as a function, made once per subscription: the lists it gives and the fields they
 * read are looked up here rather than for each event (a subscription without filters is `true`).
 */
export function compileFilter(request: SubscriptionRequest): EventFilter {
  const lists = Object.entries(request.lists) as [Exclude<FilterName, 'labels'>, ReadonlySet<string>][];
  const checks = lists.filter(([name]) => name !== 'tags').map(([name, wanted]) => [FIELD[name as Exclude<FilterName, 'labels' | 'tags'>], wanted] as const);
  const byTags = request.lists.tags !== undefined;
  const labels = request.labels ? Object.entries(request.labels) : [];
  if (checks.length === 0 && !byTags && labels.length === 0) return everything;
  return (event, taggedMonitors) => {
    const data = event.data as unknown as Record<string, unknown>;
    if (byTags && !taggedMonitors?.has(data.monitor_id as string)) return false;
    for (const [field, wanted] of checks) {
      const value = field(data);
      if (typeof value !== 'string' || !wanted.has(value)) return false;
    }
    if (labels.length > 0) {
      const given = (data.labels ?? {}) as Record<string, string>;
      for (const [key, value] of labels) if (given[key] !== value) return false;
    }
    return true;
  };
}
