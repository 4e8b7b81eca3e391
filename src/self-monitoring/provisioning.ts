/**
 * Creates the operator tenant's missing self checks, one per service this process can check,
 * at background-work start. Idempotent: a service that has its check keeps it untouched (a
 * user may have paused it, changed its channels or thresholds). A check a user deleted comes
 * back at the next start; pausing is the way to silence one. Each check is one transaction
 * (monitor + self_checks row); the unique (tenant_id, service) index makes a replica that
 * provisions at the same moment lose cleanly, its transaction rolled back.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { createMonitorWithSettings } from '../monitors/create-monitor.js';
import type { SelfProbeRegistry } from './probes/index.js';
import { SELF_CHECK_TAGS, SELF_SERVICES, type SelfService } from './self-services.js';

export interface ProvisioningReport {
  created: SelfService[];
  existing: SelfService[];
}

export async function provisionSelfChecks({ db, clock, probes, tenantId }: { db: Db; clock: Clock; probes: SelfProbeRegistry; tenantId: string }): Promise<ProvisioningReport> {
  const report: ProvisioningReport = { created: [], existing: [] };
  const present = new Set((await db.selectFrom('self_checks').select('service').where('tenant_id', '=', tenantId).execute()).map((row) => row.service));
  for (const service of SELF_SERVICES) {
    const probe = probes[service];
    if (present.has(service)) {
      report.existing.push(service);
      continue;
    }
    if (!probe.available()) continue;
    const id = randomUUID();
    const now = clock.now();
    try {
      await db.transaction().execute(async (trx) => {
        await createMonitorWithSettings(
          trx,
          {
            id,
            tenantId,
            kind: 'self',
            name: probe.title,
            tags: SELF_CHECK_TAGS,
            failureThreshold: null, // the tenant's consecutive_failures_threshold, as for its other monitors
            intervalSeconds: probe.intervalSeconds,
            nextDueAt: now,
            now,
          },
          'self_checks',
          { service },
        );
      });
      report.created.push(service);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      report.existing.push(service); // made by another replica meanwhile
    }
  }
  return report;
}
