/**
 * Self-monitoring: Vigie watches its own parts (self-services.ts) through the probes of
 * probes/, on demand (`/api/monitoring/check/...`) and as scheduled checks of kind `self` that
 * belong to the operator's tenant and alert like any monitor.
 *
 * The service is built with the others (services.ts) and learns the rest of its environment
 * when the process assembles itself: the HTTP app hands it its readiness probes and the
 * SELF_MONITORING_TENANT setting (`configure`), the background work its runtime signals
 * (`attachRuntime`) and then provisions the operator's checks (`provision`).
 *
 * Probe messages can name hosts and errors, which are the operator's business: other tenants
 * get the status and a generic sentence.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import type { ReadinessProbe } from '../health/probes.js';
import type { Logger } from '../logger.js';
import type { MonitorState, ResultStatus } from '../monitors/kinds.js';
import type { RuntimeSignals } from './environment.js';
import { resolveOperatorTenant, type OperatorTenant } from './operator-tenant.js';
import { worstStatus, type SelfProbe } from './probe.js';
import { createSelfProbes, type SelfProbeRegistry } from './probes/index.js';
import { provisionSelfChecks, type ProvisioningReport } from './provisioning.js';
import { latestMessages, listSelfChecks } from './self-checks.repository.js';
import { SELF_SERVICES, SERVICE_ALIASES, serviceNamed, type SelfService } from './self-services.js';

/** 404 for a service name that is unknown or that this process cannot check; the detail says which. */
export class UnknownServiceError extends AppError {
  readonly statusCode = 404;
}

export interface ServiceReading {
  service: SelfService;
  status: ResultStatus;
  latencyMs: number;
  message: string;
  checkedAt: number;
}

export interface SelfCheckStatus {
  service: SelfService;
  checkId: string;
  name: string;
  state: MonitorState;
  intervalSeconds: number | null;
  lastCheckedAt: number | null;
  message: string | null;
}

export interface SelfMonitoringStatus {
  /** Whether the caller's tenant owns the self checks. */
  operator: boolean;
  /** Worst state of the operator's watched self checks; null for other tenants or before any check. */
  status: ResultStatus | null;
  message: string;
  services: SelfCheckStatus[];
}

/** Who reads self-monitoring. A superuser is the operator whatever their tenant (the first start and `bootstrap --dev` each make one). */
export interface Viewer {
  tenantId: string;
  superuser: boolean;
}

const NOT_YOURS = "Self-monitoring of this Vigie belongs to its operator's tenant; ask your Vigie operator.";
const OFF = 'Self-monitoring is off: no operator tenant (see SELF_MONITORING_TENANT).';

const aliasesOf = (service: SelfService) =>
  Object.entries(SERVICE_ALIASES)
    .filter(([, s]) => s === service)
    .map(([alias]) => alias);
const KNOWN = SELF_SERVICES.map((s) => (aliasesOf(s).length ? `${s} (also ${aliasesOf(s).join(', ')})` : s)).join(', ');

const GENERIC: Record<ResultStatus, string> = { up: 'works', warning: 'is degraded', down: 'is down' };

/** What a tenant other than the operator's may read: no host names, no error texts. */
function forOthers(reading: ServiceReading): ServiceReading {
  return { ...reading, message: `${reading.service} ${GENERIC[reading.status]} (details are shown to the operator's tenant only)` };
}

/** States of watched checks that say something about the part's health. */
const STATUS_OF_STATE: Partial<Record<MonitorState, ResultStatus>> = { up: 'up', warning: 'warning', down: 'down' };

const isOperator = (viewer: Viewer, owner: OperatorTenant) => owner.tenantId !== null && (viewer.superuser || owner.tenantId === viewer.tenantId);

export function createSelfMonitoring({ db, clock }: { db: Db; clock: Clock }) {
  let readiness: readonly ReadinessProbe[] = [];
  let operatorSetting: string | undefined;
  let runtime: RuntimeSignals | undefined;
  let emailRelayConfigured: boolean | undefined;
  const probes: SelfProbeRegistry = createSelfProbes({ db, clock, readiness: () => readiness, runtime: () => runtime, emailRelayConfigured: () => emailRelayConfigured });

  const operator = (): Promise<OperatorTenant> => resolveOperatorTenant(db, operatorSetting);

  async function read(probe: SelfProbe): Promise<ServiceReading> {
    const reading = await probe.run();
    return { service: probe.service, ...reading, checkedAt: clock.now() };
  }

  return {
    probes,

    /** From the HTTP app: its readiness probes (database, Redis when REDIS_URL is set), SELF_MONITORING_TENANT, whether SMTP_HOST is set. */
    configure(options: { readiness: readonly ReadinessProbe[]; operatorTenant: string | undefined; emailRelayConfigured?: boolean }): void {
      readiness = options.readiness;
      operatorSetting = options.operatorTenant;
      emailRelayConfigured = options.emailRelayConfigured;
    },

    /** From the background work, when it starts: this process's check queue and alerting loop. */
    attachRuntime(signals: RuntimeSignals): void {
      runtime = signals;
    },

    operator,

    /** Runs one service's probe now (nothing is recorded). `name` may be an alias (postgres, db…). */
    async checkNow(name: string, viewer: Viewer): Promise<ServiceReading> {
      const service = serviceNamed(name);
      if (!service) throw new UnknownServiceError(`Unknown service "${name}". Known services: ${KNOWN}`);
      const probe = probes[service];
      if (!probe.available()) throw new UnknownServiceError(probe.unavailableReason);
      const reading = await read(probe);
      return isOperator(viewer, await operator()) ? reading : forOthers(reading);
    },

    /** Runs every probe this process can run, at once; the overall status is the worst. */
    async checkAll(viewer: Viewer): Promise<{ status: ResultStatus; services: ServiceReading[] }> {
      const available = SELF_SERVICES.map((service) => probes[service]).filter((probe) => probe.available());
      const [readings, owner] = await Promise.all([Promise.all(available.map(read)), operator()]);
      const shown = isOperator(viewer, owner) ? readings : readings.map(forOthers);
      return { status: worstStatus(readings.map((r) => r.status)), services: shown };
    },

    /** The self checks as the operator (its tenant, or a superuser) sees them; other tenants learn whose they are. */
    async status(viewer: Viewer): Promise<SelfMonitoringStatus> {
      const owner = await operator();
      if (owner.tenantId === null) return { operator: false, status: null, message: OFF, services: [] };
      if (!isOperator(viewer, owner)) return { operator: false, status: null, message: NOT_YOURS, services: [] };
      const checks = await listSelfChecks(db, owner.tenantId);
      const messages = await latestMessages(
        db,
        checks.map((c) => c.monitorId),
      );
      const states = checks.flatMap((c) => (STATUS_OF_STATE[c.state] ? [STATUS_OF_STATE[c.state]!] : []));
      return {
        operator: true,
        status: states.length ? worstStatus(states) : null,
        message:
          (owner.tenantId === viewer.tenantId
            ? `This tenant runs Vigie's self-monitoring (${owner.how})`
            : `You are a superuser: these are the self checks of the operator's tenant ${owner.tenantId} (${owner.how})`) +
          (checks.length > 0 ? '.' : '; its checks are created when the background work starts.'),
        services: checks.map((c) => ({
          service: c.service,
          checkId: c.monitorId,
          name: c.name,
          state: c.state,
          intervalSeconds: c.intervalSeconds,
          lastCheckedAt: c.lastCheckedAt,
          message: messages.get(c.monitorId) ?? null,
        })),
      };
    },

    /**
     * Creates the operator's missing self checks (at background-work start). Without an operator
     * tenant, self-monitoring is off and the log says why, once per start.
     */
    async provision(setting: string | undefined, logger: Pick<Logger, 'info' | 'warn'>): Promise<ProvisioningReport | undefined> {
      const owner = await resolveOperatorTenant(db, setting);
      if (owner.tenantId === null) {
        (setting === undefined ? logger.info : logger.warn).call(logger, `self-monitoring is off: ${owner.why}`);
        return undefined;
      }
      const report = await provisionSelfChecks({ db, clock, probes, tenantId: owner.tenantId });
      if (report.created.length) logger.info({ tenant: owner.tenantId, created: report.created }, `self-monitoring: created the self checks of ${owner.how}`);
      return report;
    },
  };
}

export type SelfMonitoring = ReturnType<typeof createSelfMonitoring>;
