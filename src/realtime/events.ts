/**
 * Builders of hub events from what the producers already hold (a recorded result, a flip and its
 * incident, stored samples), so each producer's publish is one line and the payloads are shaped
 * in one place.
 */
import type { Flip, FlipIncident } from '../monitors/flips.js';
import { isFailing, type MonitorKind } from '../monitors/kinds.js';
import type { RecordedResult } from '../monitors/results.service.js';
import type { StoredSamples } from '../metrics/sample-events.js';
import type { RealtimeEvent } from './topics.js';

const levelOf = (failingState: string | null): 'warning' | 'critical' => (failingState === 'warning' ? 'warning' : 'critical');

export interface MonitorFacts {
  tenantId: string;
  kind: MonitorKind;
  name: string | null;
}

export function resultEvent(monitor: MonitorFacts, recorded: RecordedResult): RealtimeEvent {
  return {
    topic: 'results',
    tenantId: monitor.tenantId,
    data: {
      monitor_id: recorded.monitorId,
      kind: monitor.kind,
      at: recorded.at,
      status: recorded.status,
      latency_ms: recorded.latencyMs,
      value: recorded.value,
      message: recorded.message,
    },
  };
}

/** A flip's events: the state change, its incident and alert event when it has them, and machine or Vigie status by kind. */
export function flipEvents(monitor: MonitorFacts, flip: Flip, incident: FlipIncident | undefined, alerted: boolean): RealtimeEvent[] {
  const ref = { monitor_id: flip.monitorId, kind: monitor.kind };
  const events: RealtimeEvent[] = [
    { topic: 'monitors', tenantId: flip.tenantId, data: { ...ref, flip_id: flip.id, from_state: flip.fromState, state: flip.toState, at: flip.at, reason: flip.reason } },
  ];
  if (incident?.id) {
    const failing = isFailing(flip.toState);
    const action = failing ? (incident.severityState === null ? 'opened' : 'escalated') : 'resolved';
    events.push({ topic: 'incidents', tenantId: flip.tenantId, data: { ...ref, incident_id: incident.id, action, severity: levelOf(failing ? flip.toState : incident.severityState), at: flip.at } });
  }
  if (alerted) {
    const failing = isFailing(flip.toState);
    events.push({
      topic: 'alerts',
      tenantId: flip.tenantId,
      data: {
        ...ref,
        flip_id: flip.id,
        from_state: flip.fromState,
        to_state: flip.toState,
        level: levelOf(failing ? flip.toState : (incident?.severityState ?? flip.fromState)),
        resolved: !failing,
        reason: flip.reason,
        at: flip.at,
      },
    });
  }
  if (monitor.kind === 'machine') events.push({ topic: 'machines', tenantId: flip.tenantId, data: { ...ref, machine_id: flip.monitorId, state: flip.toState, at: flip.at } });
  if (monitor.kind === 'self') events.push({ topic: 'system_status', tenantId: flip.tenantId, data: { ...ref, name: monitor.name, state: flip.toState, at: flip.at } });
  return events;
}

export function incidentAcknowledgedEvent(tenantId: string, incident: { id: string; monitorId: string; monitorKind: MonitorKind; severity: string; acknowledgedAt: number | null }): RealtimeEvent {
  return {
    topic: 'incidents',
    tenantId,
    data: { monitor_id: incident.monitorId, kind: incident.monitorKind, incident_id: incident.id, action: 'acknowledged', severity: levelOf(incident.severity), at: incident.acknowledgedAt ?? 0 },
  };
}

export function sampleEvents(stored: StoredSamples): RealtimeEvent[] {
  return stored.samples.map((sample) => ({
    topic: 'metrics',
    tenantId: stored.tenantId,
    data: { machine_id: stored.machineId, series_id: sample.seriesId, name: sample.name, labels: sample.labels, at: sample.at, value: sample.value, text: sample.text },
  }));
}

export function pingEvent(tenantId: string, monitorId: string, pingKind: string, at: number, durationMs: number | null): RealtimeEvent {
  return { topic: 'pings', tenantId, data: { monitor_id: monitorId, kind: 'heartbeat', ping_kind: pingKind, at, duration_ms: durationMs } };
}

export function notificationEvent(tenantId: string, notificationId: string, channelId: string, outcome: 'sent' | 'retry' | 'failed', at: number): RealtimeEvent {
  return { topic: 'notifications', tenantId, data: { notification_id: notificationId, channel_id: channelId, monitor_id: null, outcome, at } };
}
