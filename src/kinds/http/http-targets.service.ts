/**
 * HTTP targets (seed 000): a monitor of kind `http` plus its request settings. One target per
 * URL per tenant, enforced by a unique index so that two concurrent creations of the same URL
 * give exactly one 201 and one 409 naming the first.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import type { CheckRunner } from '../../monitors/check-runner.js';
import { createMonitorWithSettings } from '../../monitors/create-monitor.js';
import { findMonitor, replaceTags, updateMonitor, type Monitor } from '../../monitors/monitors.repository.js';
import type { MonitorsService } from '../../monitors/monitors.service.js';
import { isUnwatched } from '../../monitors/kinds.js';
import type { RecordedResult } from '../../monitors/results.service.js';
import { assertionProblems, type Assertion } from './assertions.js';
import { mergeHeaders } from './credential-headers.js';
import { findHttpTarget, findHttpTargetIdByUrl, newHttpTargetRow, listHttpTargets, updateHttpTarget, type HttpTargetSettings } from './http-targets.repository.js';
import type { HttpAuth } from './probe.js';

export const HTTP_DEFAULTS = { method: 'GET', expectedStatusCode: 200, timeoutSeconds: 10, checkIntervalSeconds: 60, isActive: true };
export const MIN_CHECK_INTERVAL_SECONDS = 10;
export const DUPLICATE_URL_MESSAGE = 'An HTTP target with this URL already exists for this client.';

export interface HttpTargetInput {
  name: string;
  url: string;
  method?: string;
  expectedStatusCode?: number;
  timeoutSeconds?: number;
  checkIntervalSeconds?: number;
  isActive?: boolean;
  tags?: string[];
  /** `null` removes a header; credential headers are write-only (credential-headers.ts). */
  headers?: Record<string, string | null>;
  body?: string | null;
  auth?: HttpAuthInput | null;
  followRedirects?: boolean;
  tlsSkipVerify?: boolean;
  assertions?: Assertion[];
  failureThreshold?: number | null;
  recoveryThreshold?: number;
}

/** Auth as a client sends it: the secret may be left out of a PATCH to keep the stored one. */
export type HttpAuthInput = { type: 'basic'; username?: string; password?: string } | { type: 'bearer'; token?: string };

export interface HttpTarget extends HttpTargetSettings {
  monitor: Monitor;
}

/** Pydantic's wording, which seed 000's clients and scripts match on. */
export function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ValidationError.field(['body', 'url'], 'Input should be a valid URL', 'url_parsing');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ValidationError.field(['body', 'url'], "URL scheme should be 'http' or 'https'", 'url_scheme');
  }
}

/** RFC 9110 field names; values without control characters. undici refuses anything else, so
 * a target saved with such a header would fail every check with "invalid header". */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f]/;

function checkHeaders(headers: Record<string, string | null> | undefined): void {
  const problems = Object.entries(headers ?? {}).flatMap(([name, value]) => {
    if (!HEADER_NAME.test(name)) return [{ loc: ['body', 'headers', name], msg: 'Invalid HTTP header name', type: 'value_error' }];
    if (value !== null && HEADER_VALUE_FORBIDDEN.test(value)) return [{ loc: ['body', 'headers', name], msg: 'HTTP header value must not contain control characters', type: 'value_error' }];
    return [];
  });
  if (problems.length) throw new ValidationError(problems);
}

function checkAssertions(assertions: Assertion[] | undefined): void {
  const problems = assertionProblems((assertions ?? []) as unknown as Record<string, unknown>[]);
  if (problems.length) {
    throw new ValidationError(problems.map(([index, field, msg, type]) => ({ loc: ['body', 'assertions', index, field], msg, type })));
  }
}

/**
 * Secrets are write-only, so a client cannot send back what it read: a basic password or bearer
 * token left out keeps the stored one of the same type. Without one to keep, it is required (an
 * empty default sent "Bearer " or "alice:" and looked like a configured credential).
 */
function resolveAuth(input: HttpAuthInput | null | undefined, current: HttpAuth | null): HttpAuth | null | undefined {
  if (input === undefined || input === null) return input;
  const missing = (field: string) => ValidationError.field(['body', 'auth', field], `Field required for ${input.type} auth`, 'missing');
  if (input.type === 'basic') {
    const kept = current?.type === 'basic' ? current : undefined;
    const password = input.password ?? kept?.password;
    if (password === undefined) throw missing('password');
    return { type: 'basic', username: input.username ?? kept?.username ?? '', password };
  }
  const token = input.token ?? (current?.type === 'bearer' ? current.token : undefined);
  if (token === undefined) throw missing('token');
  return { type: 'bearer', token };
}

export function createHttpTargetsService({ db, clock, monitors, checks }: { db: Db; clock: Clock; monitors: MonitorsService; checks: Pick<CheckRunner, 'runNow'> }) {
  async function conflictFor(tenantId: string, url: string): Promise<ConflictError> {
    const existingId = await findHttpTargetIdByUrl(db, tenantId, url);
    return new ConflictError({ message: DUPLICATE_URL_MESSAGE, existing_id: existingId ?? null });
  }

  const get = async (tenantId: string, monitorId: string): Promise<HttpTarget> => {
    const [monitor, settings] = await Promise.all([findMonitor(db, tenantId, monitorId), findHttpTarget(db, tenantId, monitorId)]);
    if (!monitor || !settings) throw new NotFoundError('HTTP target');
    return { ...settings, monitor };
  };

  return {
    get,

    async create(tenantId: string, input: HttpTargetInput): Promise<string> {
      checkUrl(input.url);
      checkHeaders(input.headers);
      checkAssertions(input.assertions);
      const auth = resolveAuth(input.auth, null) ?? null;
      const headers = mergeHeaders({}, input.headers ?? {});
      const id = randomUUID();
      const now = clock.now();
      const isActive = input.isActive ?? HTTP_DEFAULTS.isActive;
      try {
        await db.transaction().execute(async (trx) => {
          await createMonitorWithSettings(
            trx,
            {
              id,
              tenantId,
              kind: 'http',
              name: input.name,
              tags: input.tags,
              isActive,
              failureThreshold: input.failureThreshold,
              recoveryThreshold: input.recoveryThreshold,
              intervalSeconds: input.checkIntervalSeconds ?? HTTP_DEFAULTS.checkIntervalSeconds,
              nextDueAt: now, // first check right away
              now,
            },
            'http_targets',
            newHttpTargetRow({
              url: input.url,
              method: input.method ?? HTTP_DEFAULTS.method,
              expectedStatusCode: input.expectedStatusCode ?? HTTP_DEFAULTS.expectedStatusCode,
              timeoutSeconds: input.timeoutSeconds ?? HTTP_DEFAULTS.timeoutSeconds,
              followRedirects: input.followRedirects ?? true,
              tlsSkipVerify: input.tlsSkipVerify ?? false,
              headers,
              body: input.body ?? null,
              auth,
              assertions: input.assertions ?? [],
            }),
          );
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw await conflictFor(tenantId, input.url);
        throw error;
      }
      return id;
    },

    async list(tenantId: string): Promise<HttpTarget[]> {
      const [settings, all] = await Promise.all([listHttpTargets(db, tenantId), monitors.list(tenantId, { kind: 'http', limit: 100_000, offset: 0 })]);
      const byId = new Map(all.items.map((m) => [m.id, m]));
      return settings.filter((s) => byId.has(s.monitorId)).map((s) => ({ ...s, monitor: byId.get(s.monitorId)! }));
    },

    async update(tenantId: string, monitorId: string, input: Partial<HttpTargetInput>): Promise<HttpTarget> {
      const current = await get(tenantId, monitorId);
      if (input.url !== undefined) checkUrl(input.url);
      checkHeaders(input.headers);
      checkAssertions(input.assertions);
      const auth = resolveAuth(input.auth, current.auth);
      const headers = input.headers && mergeHeaders(current.headers, input.headers);
      const now = clock.now();
      const intervalChanged = input.checkIntervalSeconds !== undefined && input.checkIntervalSeconds !== current.monitor.intervalSeconds;
      try {
        await db.transaction().execute(async (trx) => {
          await updateMonitor(
            trx,
            tenantId,
            monitorId,
            {
              name: input.name,
              failureThreshold: input.failureThreshold,
              recoveryThreshold: input.recoveryThreshold,
              intervalSeconds: input.checkIntervalSeconds,
              ...(intervalChanged && current.monitor.isActive && { nextDueAt: now }),
            },
            now,
          );
          if (input.tags !== undefined) await replaceTags(trx, tenantId, monitorId, input.tags);
          await updateHttpTarget(trx, tenantId, monitorId, { ...input, auth, headers });
        });
      } catch (error) {
        if (isUniqueViolation(error) && input.url !== undefined) throw await conflictFor(tenantId, input.url);
        throw error;
      }
      if (input.isActive === false) await monitors.pause(tenantId, monitorId);
      if (input.isActive === true) await monitors.resume(tenantId, monitorId);
      return get(tenantId, monitorId);
    },

    remove: (tenantId: string, monitorId: string) => get(tenantId, monitorId).then(() => monitors.remove(tenantId, monitorId)),

    /**
     * Runs the check now (seed 000's manual trigger) and records its result like any other. A
     * paused monitor, or one in maintenance, records nothing, so this refuses (409) rather than
     * run a check whose verdict would be dropped.
     */
    async checkNow(tenantId: string, monitorId: string): Promise<RecordedResult> {
      const { monitor } = await get(tenantId, monitorId);
      if (isUnwatched(monitor.state)) throw new ConflictError(`The HTTP target is ${monitor.state === 'paused' ? 'paused: resume it' : 'in maintenance: wait for the window to end'} to check it`);
      const result = await checks.runNow(monitorId);
      if (!result) throw new NotFoundError('HTTP target');
      return result;
    },
  };
}

export type HttpTargetsService = ReturnType<typeof createHttpTargetsService>;
