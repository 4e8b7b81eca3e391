/**
 * Kind `metric` (seed 000's threshold rules on agent metrics): a passive kind for the scheduler.
 * The rule evaluator runs every METRIC_RULES_EVALUATION_SECONDS and, for rules on the latest
 * value, as soon as an ingest stores a matching sample.
 */
import { createRuleEvaluator } from '../../metrics/rules/evaluator.js';
import { createRuleEvaluationLoop } from '../../metrics/rules/loop.js';
import { createMetricRulesService } from '../../metrics/rules/rules.service.js';
import { checkResultsHistory } from '../../monitors/results-history.js';
import { registerMetricRuleRoutes } from '../../routes/metric-rules.js';
import { defineKind } from '../contract.js';
import { namedLoop } from '../loops.js';

export const metricKind = defineKind({
  kind: 'metric',
  settingsTable: 'metric_rules',
  services: (host) => ({
    /** Threshold rules on agent metrics (monitors of kind metric). */
    metricRules: createMetricRulesService(host),
    /** Evaluates them: `runOnce()` on the tick, and at once on stored samples it listens to. */
    ruleEvaluator: createRuleEvaluator(host),
  }),
  history: checkResultsHistory('evaluation'),
  loops: ({ config, logger }, own) => [namedLoop('metric rule evaluation', createRuleEvaluationLoop({ evaluator: own.ruleEvaluator, intervalSeconds: config.metricRulesEvaluationSeconds, logger }))],
  routes: (app, own) => registerMetricRuleRoutes(app, own),
  isolationRoutes: [
    { method: 'GET', url: '/api/v1/metric-rules/{id}' },
    { method: 'PATCH', url: '/api/v1/metric-rules/{id}', payload: { name: 'taken over' } },
    { method: 'DELETE', url: '/api/v1/metric-rules/{id}' },
  ],
  example: async (own, tenantId) => ({ id: (await own.metricRules.create(tenantId, { metric: 'cpu_percent', type: 'numeric', comparison: '>', criticalThreshold: 90 })).monitor.id }),
});
