/**
 * /api/v1/metric-rules: threshold rules on agent metrics (issue 6; seed 004's warning/critical
 * thresholds per metric). Each rule is a monitor of kind `metric`: its id is the monitor's, so
 * /api/v1/monitors/{id} (results, uptime, pause, channels) works on it too.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, NoContent, Nullable, NullableTimestamp, pagingQuery, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { MONITOR_STATES } from '../monitors/kinds.js';
import { AGGREGATIONS, BREACH_LEVELS, COMPARISONS, LIMITS, OBSERVED_LEVELS, RULE_DEFAULTS, STRING_CONDITIONS, VALUE_TYPES } from '../metrics/rules/definition.js';
import type { MetricRule } from '../metrics/rules/rules.repository.js';
import type { RuleInput } from '../metrics/rules/rules.service.js';
import type { MetricRulesService } from '../metrics/rules/rules.service.js';

/**
 * A nullable field as one JSON-schema `type` list, not a union: the app's validator coerces
 * types (coerceTypes), and in a union it coerces into the first branch that accepts the value —
 * null became 0, false or "" with the value first, and 0 or false became null with null first.
 * With a type list it coerces only a value of none of the types.
 */
function nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const plain = schema as unknown as { type?: string; enum?: unknown[] };
  const type = plain.type ?? 'string'; // an Enum of strings has no `type`
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'], ...(plain.enum && { enum: [...plain.enum, null] }) });
}

// No `default` keywords: these schemas also validate PATCH bodies, where a filled-in default
// would overwrite the stored value. definition.ts applies RULE_DEFAULTS.
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Default: the metric name' }),
  metric: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'The metric name, as agents send it (e.g. cpu_percent)' }),
  machine_id: nullable(Type.String({ format: 'uuid', description: 'Only this machine (GET /api/v1/machines); a machine the tenant does not have is a 422' })),
  machine_tag: nullable(Type.String({ minLength: 1, maxLength: 100, description: 'Only machines with this tag; not with machine_id' })),
  labels: Type.Record(Type.String(), Type.String(), { description: `Labels a series must carry (a subset of its labels); at most ${LIMITS.maxLabels}` }),
  type: Type.Enum([...VALUE_TYPES], { description: 'The value type of the metric; default numeric' }),
  aggregation: nullable(Type.Enum([...AGGREGATIONS], { description: `numeric: of the raw samples within window_seconds; default ${RULE_DEFAULTS.aggregation}` })),
  window_seconds: nullable(
    Type.Integer({
      minimum: LIMITS.minWindowSeconds,
      maximum: LIMITS.maxWindowSeconds,
      description: `numeric: the window aggregated (for last: how old the last sample may be); string changed: how long a change alerts; default ${RULE_DEFAULTS.windowSeconds}`,
    }),
  ),
  comparison: nullable(Type.Enum([...COMPARISONS], { description: `numeric: value <comparison> threshold is a breach; default ${RULE_DEFAULTS.comparison}` })),
  warning_threshold: nullable(Type.Number({ description: 'numeric; with > or >=, at most critical_threshold; with < or <=, at least' })),
  critical_threshold: nullable(Type.Number({ description: 'numeric; warning_threshold, critical_threshold or both' })),
  alert_when: nullable(Type.Boolean({ description: 'bool: the value that alerts; default false' })),
  condition: nullable(Type.Enum([...STRING_CONDITIONS], { description: 'string: changed (within window_seconds) or differs (from expected)' })),
  expected: nullable(Type.String({ maxLength: LIMITS.maxExpectedLength, description: 'string differs: the expected value' })),
  level: nullable(Type.Enum([...BREACH_LEVELS], { description: `bool and string: the level of a breach; default ${RULE_DEFAULTS.level}` })),
  for_seconds: Type.Integer({ minimum: 0, maximum: LIMITS.maxForSeconds, description: 'A breach is reported once it has held this long; default 0' }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }),
  is_active: Type.Boolean({ description: 'false: paused (not evaluated, no alerts)' }),
  channel_ids: nullable(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, uniqueItems: true, description: 'Channels its alerts go to; null (default): every channel of the tenant' })),
};

const { metric, ...optional } = fields;
const CreateBody = Type.Object({ metric, ...Type.Partial(Type.Object(optional)).properties }, { additionalProperties: false });
const PatchBody = Type.Partial(Type.Object(fields), { minProperties: 1, additionalProperties: false });

const RuleResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  metric: Type.String(),
  machine_id: Nullable(Uuid),
  machine_tag: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
  type: Type.Enum([...VALUE_TYPES]),
  aggregation: Nullable(Type.Enum([...AGGREGATIONS])),
  window_seconds: Nullable(Type.Integer()),
  comparison: Nullable(Type.Enum([...COMPARISONS])),
  warning_threshold: Nullable(Type.Number()),
  critical_threshold: Nullable(Type.Number()),
  alert_when: Nullable(Type.Boolean()),
  condition: Nullable(Type.Enum([...STRING_CONDITIONS])),
  expected: Nullable(Type.String()),
  level: Nullable(Type.Enum([...BREACH_LEVELS])),
  for_seconds: Type.Integer(),
  tags: Type.Array(Type.String()),
  is_active: Type.Boolean(),
  channel_ids: Nullable(Type.Array(Uuid)),
  state: Type.Enum([...MONITOR_STATES], { description: "The rule's monitor: up, warning (warning level), down (critical level), pending, paused" }),
  evaluation: Type.Object({
    evaluated_at: NullableTimestamp,
    level: Nullable(Type.Enum([...OBSERVED_LEVELS], { description: 'What the last evaluation saw, before `for`' })),
    value: Nullable(Type.Number({ description: "The worst series' value (bool: 1 or 0)" })),
    message: Nullable(Type.String()),
    warning_since: NullableTimestamp,
    critical_since: NullableTimestamp,
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const ListQuery = Type.Object({
  metric: Type.Optional(Type.String({ maxLength: 200 })),
  tag: Type.Optional(Type.String({ maxLength: 100 })),
  ...pagingQuery(50),
});

const Page = Type.Object({ items: Type.Array(RuleResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

function toInput(body: Static<typeof PatchBody>): RuleInput {
  return {
    name: body.name,
    tags: body.tags,
    isActive: body.is_active,
    channelIds: body.channel_ids,
    metric: body.metric,
    machineId: body.machine_id,
    machineTag: body.machine_tag,
    labels: body.labels,
    type: body.type,
    aggregation: body.aggregation,
    windowSeconds: body.window_seconds,
    comparison: body.comparison,
    warningThreshold: body.warning_threshold,
    criticalThreshold: body.critical_threshold,
    alertWhen: body.alert_when,
    condition: body.condition,
    expected: body.expected,
    level: body.level,
    forSeconds: body.for_seconds,
  };
}

function toResponse({ monitor, definition: d, evaluation: e }: MetricRule) {
  return {
    id: monitor.id,
    name: monitor.name,
    metric: d.metric,
    machine_id: d.machineId,
    machine_tag: d.machineTag,
    labels: d.labels,
    type: d.type,
    aggregation: d.aggregation,
    window_seconds: d.windowSeconds,
    comparison: d.comparison,
    warning_threshold: d.warningThreshold,
    critical_threshold: d.criticalThreshold,
    alert_when: d.alertWhen,
    condition: d.condition,
    expected: d.expected,
    level: d.level,
    for_seconds: d.forSeconds,
    tags: monitor.tags,
    is_active: monitor.isActive,
    channel_ids: monitor.channelIds,
    state: monitor.state,
    evaluation: {
      evaluated_at: toIsoOrNull(e.lastEvaluatedAt),
      level: e.observedLevel,
      value: e.lastValue,
      message: e.lastMessage,
      warning_since: toIsoOrNull(e.warningSince),
      critical_since: toIsoOrNull(e.criticalSince),
    },
    created_at: toIso(monitor.createdAt),
    updated_at: toIso(monitor.updatedAt),
  };
}

export function registerMetricRuleRoutes(app: VigieApp, services: { readonly metricRules: MetricRulesService }): void {
  const tags = ['metric-rules'];
  const byId = errorResponses(401, 403, 404, 422);

  app.post(
    '/api/v1/metric-rules',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a threshold rule (a monitor of kind metric)', body: CreateBody, response: { 201: RuleResponse, ...errorResponses(401, 403, 422) } },
    },
    async (request, reply) => reply.status(201).send(toResponse(await services.metricRules.create(actorOf(request).tenantId, toInput(request.body)))),
  );

  app.get(
    '/api/v1/metric-rules',
    { config: { access: 'read' }, schema: { tags, summary: "The tenant's threshold rules, by name, paginated", querystring: ListQuery, response: { 200: Page, ...errorResponses(401, 403, 422) } } },
    async (request) => {
      const q = request.query;
      const page = await services.metricRules.list(actorOf(request).tenantId, { metric: q.metric, tag: q.tag, limit: q.limit, offset: q.offset });
      return { items: page.items.map(toResponse), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/metric-rules/:id',
    { config: { access: 'read' }, schema: { tags, summary: 'One threshold rule, with its last evaluation', params: IdParams, response: { 200: RuleResponse, ...byId } } },
    async (request) => toResponse(await services.metricRules.get(actorOf(request).tenantId, request.params.id)),
  );

  app.patch(
    '/api/v1/metric-rules/:id',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Change some of a threshold rule; a changed definition restarts its evaluation',
        params: IdParams,
        body: PatchBody,
        response: { 200: RuleResponse, ...byId },
      },
    },
    async (request) => toResponse(await services.metricRules.update(actorOf(request).tenantId, request.params.id, toInput(request.body))),
  );

  app.delete(
    '/api/v1/metric-rules/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a threshold rule and its history', params: IdParams, response: { 204: NoContent, ...byId } } },
    async (request, reply) => {
      await services.metricRules.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
