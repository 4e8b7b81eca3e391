/**
 * Kind, state and result-status names, defined once and reused by the database, the API schemas
 * and (later) the dashboard. A kind named here must be registered in kinds/registry.ts (the
 * registry is a complete Record, so the compiler refuses a kind without its implementation).
 */
/** `self`: a part of Vigie itself (its database, Redis, job runner, scheduler, delivery); see self-monitoring/. */
/** `backup`: seed 001's backup jobs (kinds/backup/): deposits validated and promoted by the server. */
export const MONITOR_KINDS = ['http', 'heartbeat', 'metric', 'machine', 'self', 'backup'] as const;
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/** `maintenance`: inside a maintenance window, not checked, no alerts, no downtime counted. */
export const MONITOR_STATES = ['pending', 'up', 'down', 'warning', 'paused', 'maintenance'] as const;
export type MonitorState = (typeof MONITOR_STATES)[number];

/** What one check says. `warning` is a failure of the milder level (e.g. a certificate nearing expiry). */
export const RESULT_STATUSES = ['up', 'down', 'warning'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const INCIDENT_STATES = ['open', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** States in which results neither move the monitor nor count: nobody is watching it. */
export const UNWATCHED_STATES: readonly MonitorState[] = ['paused', 'maintenance'];
export const isUnwatched = (state: MonitorState): boolean => UNWATCHED_STATES.includes(state);

/**
 * States in which a monitor is failing: a flip into one opens (or escalates) its incident, a flip
 * out of one resolves it and is worth a recovery notice. Defined once for the state machine, the
 * incident write and alerting.
 */
export const FAILING_STATES = ['down', 'warning'] as const satisfies readonly MonitorState[];
export type FailingState = (typeof FAILING_STATES)[number];

export function isFailing(state: string): state is FailingState {
  return (FAILING_STATES as readonly string[]).includes(state);
}
