/**
 * The delivery self probe: do alerts go out? Three measures, the worst counts:
 * - the alerting loop of this process (routing and delivery, alerting-work.ts) completed a pass
 *   recently: it passes every second, so 30 s of silence is a warning and 2 min is down;
 * - no notification is overdue (due and not sent) by more than a minute (warning) or five
 *   (down): retries wait for their backoff in the future, so an overdue row is one nobody sends;
 * - no alert event waits to be routed for as long.
 * And two that make silent failures visible: e-mail channels while no SMTP relay is configured,
 * and attempts that failed in the last hour (by channel kind; e-mail failures, which go through
 * this server's relay, are a warning with the relay's last answer; other kinds fail at the
 * tenants' own endpoints and are only counted).
 * They read the outbox of every tenant, as delivery itself does; they return counts and times,
 * never a tenant's row.
 */
import { recentFailures, tenantsWithEmail } from '../../alerting/delivery-status.js';
import type { ProbeEnvironment } from '../environment.js';
import { combine, describeDuration, gradeAge, type AgeThresholds, type SelfProbe } from '../probe.js';

export const LOOP_SILENCE: AgeThresholds = { warningMs: 30_000, downMs: 120_000 };
export const OVERDUE: AgeThresholds = { warningMs: 60_000, downMs: 300_000 };
/** How far back failed attempts are counted. */
export const FAILURE_WINDOW_MS = 3_600_000;

type Finding = { status: 'up' | 'warning' | 'down'; message: string };

export function deliverySelfProbe(env: ProbeEnvironment): SelfProbe {
  async function overdueNotifications(now: number): Promise<Finding> {
    const row = await env.db
      .selectFrom('notifications')
      .select((eb) => [eb.fn.min('due_at').as('oldest'), eb.fn.countAll().as('n')])
      .where('status', 'in', ['pending', 'sending'])
      .where('due_at', '<=', now)
      .executeTakeFirst();
    const n = Number(row?.n ?? 0);
    if (n === 0 || row?.oldest === null || row?.oldest === undefined) return { status: 'up', message: 'no notification is overdue' };
    const lateMs = now - Number(row.oldest);
    return { status: gradeAge(lateMs, OVERDUE), message: `${n} notification(s) due, the oldest overdue by ${describeDuration(lateMs)}` };
  }

  async function unroutedEvents(now: number): Promise<Finding | undefined> {
    const row = await env.db
      .selectFrom('alert_events')
      .select((eb) => [eb.fn.min('at').as('oldest'), eb.fn.countAll().as('n')])
      .where('routed_at', 'is', null)
      .executeTakeFirst();
    const n = Number(row?.n ?? 0);
    if (n === 0 || row?.oldest === null || row?.oldest === undefined) return undefined;
    const waitMs = Math.max(0, now - Number(row.oldest));
    return { status: gradeAge(waitMs, OVERDUE), message: `${n} alert event(s) not routed yet, the oldest for ${describeDuration(waitMs)}` };
  }

  async function emailWithoutRelay(): Promise<Finding | undefined> {
    if (env.emailRelayConfigured() !== false) return undefined;
    const tenants = await tenantsWithEmail(env.db);
    if (tenants === 0) return undefined;
    return { status: 'warning', message: `SMTP is not configured (SMTP_HOST) but ${tenants} tenant(s) have e-mail notifications: they fail` };
  }

  async function failedAttempts(now: number): Promise<Finding | undefined> {
    const { byKind, lastEmailError } = await recentFailures(env.db, now - FAILURE_WINDOW_MS);
    if (byKind.size === 0) return undefined;
    const total = [...byKind.values()].reduce((sum, n) => sum + n, 0);
    const kinds = [...byKind.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `${kind}: ${n}`)
      .join(', ');
    const email = lastEmailError === null ? '' : `; last e-mail error: ${lastEmailError}`;
    return { status: byKind.has('email') ? 'warning' : 'up', message: `${total} notification attempt(s) failed in the last hour (${kinds})${email}` };
  }

  return {
    service: 'delivery',
    title: 'Vigie notification delivery',
    intervalSeconds: 60,
    unavailableReason: '',
    available: () => true,
    async run() {
      const now = env.clock.now();
      const findings: Finding[] = [await overdueNotifications(now)];
      const events = await unroutedEvents(now);
      if (events) findings.push(events);
      for (const finding of [await emailWithoutRelay(), await failedAttempts(now)]) if (finding) findings.push(finding);
      const runtime = env.runtime();
      if (runtime) {
        const sincePass = runtime.alerting.msSinceLastPass();
        const silentMs = sincePass ?? Math.max(0, now - runtime.startedAt);
        findings.unshift({
          status: gradeAge(silentMs, LOOP_SILENCE),
          message:
            sincePass === null
              ? `the alerting loop has not completed a pass since it started ${describeDuration(silentMs)} ago`
              : `the alerting loop completed a pass ${describeDuration(silentMs)} ago`,
        });
      }
      return combine(findings, 0);
    },
  };
}
