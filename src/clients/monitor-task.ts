/**
 * `monitorTask`: the seed's `monitor_task` decorator as a TypeScript wrapper. The wrapped
 * function pings `/start` (with a run id, so the server measures run time), runs, then pings
 * success, or `/fail` with the error as the body, and returns the value or rethrows the error.
 *
 * Monitoring never changes what the task does: a failed ping is reported through `onPingError`
 * (a console warning by default), never thrown, and the task's own error is rethrown untouched.
 */
import { randomUUID } from 'node:crypto';
import { buildPingUrl, sendPing, type PingKind, type PingResult, type SendPingOptions } from './ping-client.js';

export interface MonitorTaskOptions extends Pick<SendPingOptions, 'retries' | 'timeoutMs' | 'fetchImpl' | 'sleep'> {
  /** Called when a ping fails after its retries; defaults to a one-line console.warn. */
  onPingError?: (result: PingResult, kind: PingKind) => void;
}

/** The body of a `/fail` ping: "Name: message" and the first stack frame, where the error happened. */
export function describeTaskError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const where = error.stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.trim();
  const headline = `${error.name}: ${error.message}`;
  return where ? `${headline}\n${where}` : headline;
}

export function monitorTask<Args extends unknown[], Result, This = unknown>(
  pingUrl: string,
  fn: (this: This, ...args: Args) => Result | PromiseLike<Result>,
  options: MonitorTaskOptions = {},
): (this: This, ...args: Args) => Promise<Result> {
  buildPingUrl(pingUrl); // a bad URL is a bug: report it when wrapping, not at the first run
  const { onPingError = warnPingError, ...pingOptions } = options;
  const ping = async (kind: PingKind, rid: string, body?: string) => {
    const result = await sendPing(pingUrl, { ...pingOptions, kind, rid, body });
    if (!result.ok) onPingError(result, kind);
  };

  return async function monitored(this: This, ...args: Args): Promise<Result> {
    const rid = randomUUID();
    await ping('start', rid);
    let value: Result;
    try {
      value = await fn.apply(this, args);
    } catch (error) {
      await ping('fail', rid, describeTaskError(error));
      throw error;
    }
    await ping('success', rid);
    return value;
  };
}

function warnPingError(result: PingResult, kind: PingKind): void {
  const name = typeof kind === 'object' ? `/${kind.exit}` : kind;
  console.warn(`vigie monitorTask: ${name} ping failed after ${result.attempts} attempt(s): ${result.error}`);
}
