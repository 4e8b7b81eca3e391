/**
 * The kind contract: what a monitor kind gives the core, so that a new kind is its folder, one
 * line in registry.ts and its migration. The core (monitors/, alerting/, the scheduler, the
 * runtime) never names a kind; it asks the registry.
 *
 * A kind is built in three steps, each given what exists by then:
 *   1. `services(host)`: the kind's own services, from the core's (the check runner is reached
 *      late through `host.checks`, since it is built from every kind's checker);
 *   2. `checker(host, own)`: for active kinds, runs one check of one monitor;
 *   3. `loops(runtime, all)` and `routes(app, all, deps)`: its background work and its HTTP API.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { VigieApp } from '../http/types.js';
import type { ChannelsService } from '../alerting/channels.service.js';
import type { AlertingWork } from '../alerting/alerting-work.js';
import type { Logger } from '../logger.js';
import type { Checker } from '../monitors/checker.js';
import type { MonitorKind } from '../monitors/kinds.js';
import type { Monitor } from '../monitors/monitors.repository.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import type { RecordedResult, ResultRecorder } from '../monitors/results.service.js';
import type { SampleEvents } from '../metrics/sample-events.js';
import type { Observability } from '../observability/observability.js';
import type { WatchedJobRunner } from '../self-monitoring/queue-watch.js';
import type { WatchedCheck } from '../self-monitoring/watched-checks.js';
import type { Hub } from '../realtime/hub.js';
import type { HistorySource } from './history.js';
import type { BackgroundLoop } from './loops.js';

/** What the core gives every kind's services. */
export interface KindHost {
  readonly db: Db;
  readonly clock: Clock;
  /** Signs badge links. */
  readonly secretKey: string;
  readonly monitors: MonitorsService;
  readonly recorder: ResultRecorder;
  readonly sampleEvents: SampleEvents;
  readonly observability: Observability;
  /** Bound once every checker exists; `runNow` runs a check of an active kind and records it. */
  readonly checks: { runNow(monitorId: string): Promise<RecordedResult | undefined> };
  /** The realtime hub: a kind publishes its own live events through it, after its transaction commits. */
  readonly hub: Hub;
}

/** What the runtime gives a kind's background loops. */
export interface KindRuntime {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly logger: Logger;
  /** When this process's background work started. */
  readonly startedAt: number;
  readonly jobs: WatchedJobRunner;
  /** The alerting loop, which self-monitoring watches. */
  readonly alerting: AlertingWork;
}

/** What a kind's routes get besides the services. */
export interface KindRouteDeps {
  /** Core services that kinds' routes use. */
  readonly monitors: MonitorsService;
  readonly channels: ChannelsService;
  readonly observability: Observability;
  readonly config: Config;
  readonly clock: Clock;
  readonly db: Db;
}

/** A table holding one settings row per monitor of a kind, keyed by `monitor_id`, with a `tenant_id`. */
export type SettingsTable = {
  [T in keyof Database]: Database[T] extends { monitor_id: string; tenant_id: string } ? T : never;
}[keyof Database];

/** Seed 002's "checks" list (heartbeat and self checks): how a kind shows, pauses and resumes there. */
export interface WatchedKindHandlers {
  list(tenantId: string): Promise<WatchedCheck[]>;
  read(tenantId: string, monitor: Monitor): Promise<WatchedCheck>;
  /** Optional: the monitor id of a check named by another id its own clients use (a heartbeat's ping UUID, as Healthchecks' API names checks); null when it names none of the tenant's. */
  monitorIdOf?(tenantId: string, otherId: string): Promise<string | null>;
  /** Optional: pause and resume as the kind's own API does (a heartbeat: as Healthchecks' v3), so both routes mean the same; else the monitor core's. */
  pause?(tenantId: string, monitorId: string): Promise<unknown>;
  resume?(tenantId: string, monitorId: string): Promise<unknown>;
}

/** A route of the kind that takes a monitor id, walked by the tenant-isolation test with another tenant's id. */
export interface IsolationRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `{id}` is replaced by the monitor's id, other `{name}`s by the example's `params`. */
  readonly url: string;
  readonly payload?: Record<string, unknown>;
}

/** A monitor made by a kind's `example`: its id and the other names its routes take (a ping UUID…). */
export interface KindExample {
  readonly id: string;
  readonly params?: Readonly<Record<string, string>>;
}

export interface KindPlugin<Kind extends MonitorKind = MonitorKind, Own extends object = object> {
  readonly kind: Kind;
  /** Its settings table; deleted with the monitor (cascade), walked for tenant isolation. */
  readonly settingsTable: SettingsTable | null;
  services(host: KindHost): Own;
  /** Active kinds only: the scheduler runs it every `interval_seconds`. */
  checker?(host: KindHost, own: Own): Checker;
  /**
   * Run inside the transaction that pauses or resumes the monitor (whatever route asked), so a
   * kind's own state (a heartbeat's deadlines) can never disagree with the monitor's.
   */
  onPause?(trx: Db, monitor: Pick<Monitor, 'id' | 'tenantId'>, at: number): Promise<void>;
  onResume?(trx: Db, monitor: Pick<Monitor, 'id' | 'tenantId'>, at: number): Promise<void>;
  /** What it recorded: /monitors/{id}/results and uptime read it. */
  readonly history: HistorySource;
  /**
   * When the kind keeps a monitor's last activity in its own table (a heartbeat's last ping is not
   * written to the monitor row on the fast path), monitor reads ask it; otherwise they join nothing.
   */
  lastActivity?(db: Db, tenantId: string, monitorIds: readonly string[]): Promise<Map<string, number | null>>;
  loops?(runtime: KindRuntime, own: Own): BackgroundLoop[];
  routes?(app: VigieApp, own: Own, deps: KindRouteDeps): void;
  /** Seed 002's watched checks, for kinds listed there. */
  watched?(own: Own, host: KindHost): WatchedKindHandlers;
  /** Routes walked with another tenant's monitor id: each must answer 404. */
  readonly isolationRoutes: readonly IsolationRoute[];
  /**
   * Makes one monitor of the kind in a tenant as a user would, for the contract suite and the
   * isolation walk (so a new kind is tested by registering).
   */
  example(own: Own, tenantId: string, host: KindHost): Promise<KindExample>;
}

/** Helper so each kind's file infers its own services' type. */
export const defineKind = <Kind extends MonitorKind, Own extends object>(plugin: KindPlugin<Kind, Own>): KindPlugin<Kind, Own> => plugin;
