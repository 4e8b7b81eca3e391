/**
 * Events waiting for their transaction to commit. A producer writing inside a transaction stages
 * its events on the transaction object; once `db.transaction().execute()` has returned (the
 * commit succeeded), it publishes what was staged. A transaction that rolls back throws instead,
 * and its staged events are garbage with it: no event is ever sent for a write that did not
 * happen. Keyed by the transaction object in a WeakMap, so nothing outlives its transaction.
 */
import type { RealtimeEvent } from './topics.js';

const staged = new WeakMap<object, RealtimeEvent[]>();

export function stageEvent(trx: object, event: RealtimeEvent): void {
  const list = staged.get(trx);
  if (list) list.push(event);
  else staged.set(trx, [event]);
}

/** What was staged on the transaction so far; return it from the transaction's callback and publish it after. */
export function stagedEvents(trx: object): RealtimeEvent[] {
  let list = staged.get(trx);
  if (!list) staged.set(trx, (list = []));
  return list;
}
