/**
 * The parts of Vigie that self-monitoring watches, named once: the `self_checks.service` values,
 * the `/api/monitoring/check/{service}` names and the schema enums all come from this list.
 * Seed 002's table of "services monitored" gives the intervals of the database and Redis (30 s);
 * the parts that only Vigie has are checked every minute.
 */
export const SELF_SERVICES = ['database', 'redis', 'job-runner', 'scheduler', 'delivery'] as const;
export type SelfService = (typeof SELF_SERVICES)[number];

/** Other names clients use for the database (seed 002's `check/postgres`). */
export const SERVICE_ALIASES: Readonly<Record<string, SelfService>> = Object.freeze({
  postgres: 'database',
  postgresql: 'database',
  sqlite: 'database',
  db: 'database',
});

/** The service a name (or alias) means, case-insensitively; undefined for an unknown name. */
export function serviceNamed(name: string): SelfService | undefined {
  const lower = name.trim().toLowerCase();
  if ((SELF_SERVICES as readonly string[]).includes(lower)) return lower as SelfService;
  return SERVICE_ALIASES[lower];
}

/** Tags every self check gets, so silences, maintenance windows and channel filters can target them. */
export const SELF_CHECK_TAGS: readonly string[] = ['vigie', 'self-monitoring'];
