/**
 * The kinds registry: every monitor kind and its implementation. A complete Record, so a kind
 * named in MONITOR_KINDS (monitors/kinds.ts) but not registered here does not compile. Adding a
 * kind is its folder under kinds/, its line here and its migration (docs/architecture.md).
 */
import type { MonitorKind } from '../monitors/kinds.js';
import type { KindPlugin } from './contract.js';
import { heartbeatKind } from './heartbeat/kind.js';
import { httpKind } from './http/kind.js';
import { machineKind } from './machine/kind.js';
import { metricKind } from './metric/kind.js';
import { selfKind } from './self/kind.js';
import { backupKind } from './backup/kind.js';

export const KINDS = {
  http: httpKind,
  heartbeat: heartbeatKind,
  metric: metricKind,
  machine: machineKind,
  self: selfKind,
  backup: backupKind,
  // Each kind's own services type is its own; `any` here only lets the check accept them all.
} as const satisfies { [K in MonitorKind]: KindPlugin<K, any> };

export type Kinds = typeof KINDS;
export type KindServicesOf<K extends MonitorKind> = ReturnType<Kinds[K]['services']>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** Every kind's own services, side by side (each kind names its services uniquely). */
export type AllKindServices = UnionToIntersection<{ [K in MonitorKind]: KindServicesOf<K> }[MonitorKind]>;

/** The registry as the core iterates it, without each kind's own types. */
export const kindList = (): readonly KindPlugin<MonitorKind, object>[] => Object.values(KINDS) as unknown as KindPlugin<MonitorKind, object>[];
export const kindOf = (kind: MonitorKind): KindPlugin<MonitorKind, object> => KINDS[kind] as unknown as KindPlugin<MonitorKind, object>;
