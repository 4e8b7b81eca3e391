/**
 * The periodic evaluation of threshold rules (seed 000's evaluation job), for the background
 * work of a process: every METRIC_RULES_EVALUATION_SECONDS, every active rule. A tick that is
 * still running when the next is due is not doubled. On-sample evaluations happen meanwhile
 * (evaluator.ts); their failures are logged here too.
 */
import type { Logger } from '../../logger.js';
import type { RuleEvaluator } from './evaluator.js';

export function createRuleEvaluationLoop({ evaluator, intervalSeconds, logger }: { evaluator: RuleEvaluator; intervalSeconds: number; logger: Pick<Logger, 'warn'> }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const tick = () =>
    (running ??= evaluator
      .runOnce()
      .catch((error: unknown) => logger.warn({ err: error }, 'metric rules: evaluation failed; retried at the next tick'))
      .finally(() => (running = undefined)));

  return {
    start(): void {
      evaluator.reportErrorsTo((error) => logger.warn({ err: error }, 'metric rules: evaluation of new samples failed; the next tick evaluates them'));
      timer = setInterval(() => void tick(), intervalSeconds * 1000);
      timer.unref();
    },
    /** No new ticks and no more on-sample evaluations; waits for those under way. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
      await evaluator.close();
    },
  };
}
