/**
 * Threshold rules of a tenant: create, read, change, delete. Each rule is a monitor of kind
 * `metric` with failure and recovery thresholds of 1 — the rule's own `for` duration is what
 * delays an alert, so the monitor core must take each reported verdict at once — and its
 * definition in `metric_rules`. Alerting (channels, reminders, silences, incidents) is the
 * monitor core's, as for every kind.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { NotFoundError, ValidationError, type FieldProblem } from '../../errors.js';
import { createMonitorWithSettings } from '../../monitors/create-monitor.js';
import { replaceMonitorChannels, unknownChannelIds, replaceTags, updateMonitor } from '../../monitors/monitors.repository.js';
import type { MonitorsService } from '../../monitors/monitors.service.js';
import { completeDefinition, definitionProblems, mergeDefinition, type DefinitionInput } from './definition.js';
import { findRule, newRuleRow, listRules, machineExists, updateRuleDefinition, type MetricRule, type RuleFilters } from './rules.repository.js';

/** What a client sends: the definition's fields and the monitor's. */
export interface RuleInput extends DefinitionInput {
  name?: string;
  tags?: string[];
  isActive?: boolean;
  /** Null: every channel of the tenant; undefined: unchanged (every channel for a new rule). */
  channelIds?: string[] | null;
}

const MONITOR_FIELDS = ['name', 'tags', 'isActive', 'channelIds'] as const;

function definitionPart(input: RuleInput): DefinitionInput {
  const part: Record<string, unknown> = { ...input };
  for (const field of MONITOR_FIELDS) delete part[field];
  return part as DefinitionInput;
}

export function createMetricRulesService({ db, clock, monitors }: { db: Db; clock: Clock; monitors: MonitorsService }) {
  const get = async (tenantId: string, id: string): Promise<MetricRule> => {
    const found = await findRule(db, tenantId, id);
    if (!found) throw new NotFoundError('Metric rule');
    return found;
  };

  /** The problems only the database can tell: a machine or a channel the tenant does not have. */
  async function referenceProblems(tenantId: string, input: RuleInput): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    if (input.machineId != null && !(await machineExists(db, tenantId, input.machineId))) {
      problems.push({ loc: ['body', 'machine_id'], msg: `No machine ${input.machineId} in this tenant`, type: 'value_error' });
    }
    if (input.channelIds) {
      const unknown = new Set(await unknownChannelIds(db, tenantId, input.channelIds));
      input.channelIds.forEach((id, i) => {
        if (unknown.has(id)) problems.push({ loc: ['body', 'channel_ids', i], msg: `No channel ${id} in this tenant`, type: 'value_error' });
      });
    }
    return problems;
  }

  async function checked(tenantId: string, merged: DefinitionInput, input: RuleInput) {
    const problems = [...definitionProblems(merged, definitionPart(input)), ...(await referenceProblems(tenantId, input))];
    if (problems.length) throw new ValidationError(problems);
    return completeDefinition(merged);
  }

  return {
    get,
    list: (tenantId: string, filters: RuleFilters) => listRules(db, tenantId, filters),

    async create(tenantId: string, input: RuleInput): Promise<MetricRule> {
      const definition = await checked(tenantId, definitionPart(input), input);
      const id = randomUUID();
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await createMonitorWithSettings(
          trx,
          // Passive for the scheduler (no interval): the rule evaluator has its own tick.
          { id, tenantId, kind: 'metric', name: input.name ?? definition.metric, tags: input.tags, isActive: input.isActive, failureThreshold: 1, recoveryThreshold: 1, now },
          'metric_rules',
          newRuleRow(definition),
        );
        if (input.channelIds !== undefined) await replaceMonitorChannels(trx, tenantId, id, input.channelIds, now);
      });
      return get(tenantId, id);
    },

    /** Changes what is given; a changed definition restarts the evaluation (and its `for` clocks). */
    async update(tenantId: string, id: string, input: RuleInput): Promise<MetricRule> {
      const current = await get(tenantId, id);
      const given = definitionPart(input);
      const changesDefinition = Object.values(given).some((value) => value !== undefined);
      const definition = await checked(tenantId, mergeDefinition(current.definition, given), input);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        if (input.name !== undefined) await updateMonitor(trx, tenantId, id, { name: input.name }, now);
        if (input.tags !== undefined) await replaceTags(trx, tenantId, id, input.tags);
        if (input.channelIds !== undefined) await replaceMonitorChannels(trx, tenantId, id, input.channelIds, now);
        if (changesDefinition) await updateRuleDefinition(trx, tenantId, id, definition);
      });
      // Through the monitor core, so that pausing resolves an open incident with a flip row.
      if (input.isActive === false && current.monitor.isActive) await monitors.pause(tenantId, id);
      if (input.isActive === true && !current.monitor.isActive) await monitors.resume(tenantId, id);
      return get(tenantId, id);
    },

    async remove(tenantId: string, id: string): Promise<void> {
      await get(tenantId, id);
      await monitors.remove(tenantId, id);
    },
  };
}

export type MetricRulesService = ReturnType<typeof createMetricRulesService>;
