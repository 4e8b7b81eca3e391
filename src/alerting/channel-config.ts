/**
 * A channel's `config` checked against its provider's schema, with 422 entries of the same shape
 * as the request validator's (`["body", "config", "url"]`), and the write-only handling of
 * secrets: an update keeps stored secrets it does not mention, and `null` removes one.
 */
import { Value } from 'typebox/value';
import { ValidationError } from '../errors.js';
import { validationProblems } from '../http/error-handler.js';
import type { NotificationProvider } from '../notify/provider.js';

interface SchemaIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * TypeBox's issues in the request validator's (Ajv's) terms: an unknown key is reported twice (a
 * `false` sub-schema, and the object's summary), so keep one, named; missing keys come as one
 * issue listing them all, so make one per key.
 */
function asValidatorIssues(issues: SchemaIssue[]): SchemaIssue[] {
  return issues
    .filter((issue) => issue.keyword !== 'additionalProperties')
    .flatMap((issue) =>
      issue.keyword === 'required' && Array.isArray(issue.params.requiredProperties)
        ? (issue.params.requiredProperties as string[]).map((name) => ({ ...issue, params: { missingProperty: name } }))
        : [issue],
    )
    .map((issue) => {
      if (issue.keyword !== 'boolean') return issue;
      const slash = issue.instancePath.lastIndexOf('/');
      return { keyword: 'additionalProperties', instancePath: issue.instancePath.slice(0, slash), params: { additionalProperty: issue.instancePath.slice(slash + 1) } };
    });
}

export function validateChannelConfig(provider: NotificationProvider<any>, config: Record<string, unknown>): void {
  if (Value.Check(provider.configSchema, config)) return;
  const issues = [...Value.Errors(provider.configSchema, config)] as SchemaIssue[];
  const prefixed = asValidatorIssues(issues).map((issue) => ({ ...issue, instancePath: `/config${issue.instancePath}` }));
  throw new ValidationError(validationProblems(prefixed, 'body'));
}

/**
 * The config an update asks for: the given fields, plus the stored secrets it leaves out (the API
 * never shows them, so a client cannot send them back). A secret given as null is removed.
 */
export function mergeSecrets(provider: NotificationProvider<any>, stored: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) if (value !== null || !provider.secretFields.includes(key)) merged[key] = value;
  for (const key of provider.secretFields) {
    if (!(key in given) && stored[key] !== undefined) merged[key] = stored[key];
  }
  return merged;
}
