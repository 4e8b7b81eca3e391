/**
 * The flip module on real databases, driven directly (no recorder, no app): a flip moves the
 * monitor's state under a compare-and-set, writes its row, opens / escalates / resolves the
 * incident, and calls its listener in the same transaction, so a listener that throws takes the
 * whole flip back. The listener here is alerting's own recordFlipEvent, wrapped to see what it
 * is given.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordFlipEvent } from '../src/alerting/events.js';
import { createTenantsService } from '../src/auth/tenants.service.js';
import { ManualClock } from '../src/clock.js';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import type { Db } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createFlipWriter, FlipConflict, type Flip, type FlipIncident, type FlipListener } from '../src/monitors/flips.js';
import type { MonitorState } from '../src/monitors/kinds.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

describe.each(TEST_DIALECTS)('flips on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  let db: Db;
  let clock: ManualClock;
  let tenantId: string;
  let monitorId: string;
  /** What the listener was given, and what it saw of the incident inside the transaction. */
  let heard: { flip: Flip; incident: FlipIncident; openInTrx: string[] }[];
  /** Set by a test to make the listener fail after it wrote its alert event. */
  let failListener: boolean;

  const listener: FlipListener = async (trx, flip, incident) => {
    const open = await trx.selectFrom('incidents').select('id').where('monitor_id', '=', flip.monitorId).where('state', '=', 'open').execute();
    heard.push({ flip, incident, openInTrx: open.map((row) => row.id) });
    const wrote = await recordFlipEvent(trx, flip, incident);
    if (failListener) throw new Error('listener failed');
    return wrote;
  };
  const flips = createFlipWriter({ onFlipWritten: listener });

  beforeEach(async () => {
    testDatabase = await createTestDatabase(dialect);
    database = await openDatabase(testDatabase.target);
    db = database.db;
    await migrateToLatest(db);
    clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 0));
    heard = [];
    failListener = false;
    tenantId = (await createTenantsService({ db, clock }).create({ name: 'Flips' })).id;
    monitorId = randomUUID();
    await db
      .insertInto('monitors')
      .values({
        id: monitorId,
        tenant_id: tenantId,
        kind: 'http',
        name: 'flipping',
        state: 'pending',
        failure_threshold: null,
        interval_seconds: 60,
        last_checked_at: null,
        next_due_at: null,
        state_changed_at: clock.now(),
        repeat_interval_seconds: null,
        created_at: clock.now(),
        updated_at: clock.now(),
      })
      .execute();
  });

  afterEach(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  const monitorRow = () => db.selectFrom('monitors').select(['state', 'state_changed_at']).where('id', '=', monitorId).executeTakeFirstOrThrow();
  const flipRows = () => db.selectFrom('monitor_flips').selectAll().where('monitor_id', '=', monitorId).orderBy('at').execute();
  const incidents = () => db.selectFrom('incidents').selectAll().where('monitor_id', '=', monitorId).orderBy('opened_at').execute();
  const alertEvents = () => db.selectFrom('alert_events').selectAll().where('monitor_id', '=', monitorId).orderBy('at').execute();

  /** Writes one flip from `fromState` to `toState` a minute after the previous one, in its own transaction. */
  async function move(fromState: MonitorState, toState: MonitorState): Promise<{ flip: Flip; alerted: boolean }> {
    clock.advance(60_000);
    const flip: Flip = { id: randomUUID(), tenantId, monitorId, fromState, toState, at: clock.now(), reason: `${fromState} to ${toState}` };
    const alerted = await db.transaction().execute((trx) => flips.write(trx, flip));
    return { flip, alerted };
  }

  it('pending → up moves the state and writes the flip row, but opens nothing and alerts no one', async () => {
    const { flip, alerted } = await move('pending', 'up');
    expect(alerted).toBe(false);
    expect(await monitorRow()).toEqual({ state: 'up', state_changed_at: flip.at });
    expect(await flipRows()).toMatchObject([{ id: flip.id, from_state: 'pending', to_state: 'up', at: flip.at, reason: 'pending to up' }]);
    expect(await incidents()).toEqual([]);
    expect(await alertEvents()).toEqual([]);
    expect(heard).toEqual([{ flip, incident: { id: null, severityState: null, downForMs: null }, openInTrx: [] }]);
  });

  it('up → down opens an incident and the listener writes its alert event in the same transaction', async () => {
    await move('pending', 'up');
    const { flip, alerted } = await move('up', 'down');
    expect(alerted).toBe(true);
    const [incident] = await incidents();
    expect(incident).toMatchObject({ severity: 'down', state: 'open', opened_at: flip.at, opened_by_flip_id: flip.id, resolved_at: null });
    // The listener saw the incident the flip had just opened, before anything committed.
    expect(heard[1]).toEqual({ flip, incident: { id: incident!.id, severityState: null, downForMs: null }, openInTrx: [incident!.id] });
    expect(await alertEvents()).toMatchObject([{ flip_id: flip.id, incident_id: incident!.id, kind: 'alert', from_state: 'up', to_state: 'down', severity: 'critical', at: flip.at }]);
  });

  it('a listener that throws rolls back the state, the flip row, the incident and the alert event', async () => {
    await move('pending', 'up');
    const before = await monitorRow();
    failListener = true;
    await expect(move('up', 'down')).rejects.toThrow('listener failed');
    expect(heard).toHaveLength(2); // it was called, after the incident was written
    expect(heard[1]!.openInTrx).toHaveLength(1);
    expect(await monitorRow()).toEqual(before);
    expect((await flipRows()).map((f) => f.to_state)).toEqual(['up']);
    expect(await incidents()).toEqual([]);
    expect(await alertEvents()).toEqual([]);
  });

  it('warning ↔ down escalates and de-escalates the same incident, each time with an alert event', async () => {
    await move('pending', 'up');
    const opened = await move('up', 'warning');
    const escalated = await move('warning', 'down');
    const deescalated = await move('down', 'warning');
    const rows = await incidents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'open', severity: 'warning', opened_by_flip_id: opened.flip.id, last_reminder_at: deescalated.flip.at });
    expect(heard.slice(2).map((h) => h.incident)).toEqual([
      { id: rows[0]!.id, severityState: 'warning', downForMs: null },
      { id: rows[0]!.id, severityState: 'down', downForMs: null },
    ]);
    const events = await alertEvents();
    expect(events.map((e) => [e.flip_id, e.incident_id, e.to_state, e.severity])).toEqual([
      [opened.flip.id, rows[0]!.id, 'warning', 'warning'],
      [escalated.flip.id, rows[0]!.id, 'down', 'critical'],
      [deescalated.flip.id, rows[0]!.id, 'warning', 'warning'],
    ]);
  });

  it('down → up resolves the incident; the recovery event carries its severity and how long it lasted', async () => {
    await move('pending', 'up');
    const down = await move('up', 'down');
    const up = await move('down', 'up');
    expect(up.alerted).toBe(true);
    const [incident] = await incidents();
    expect(incident).toMatchObject({ state: 'resolved', resolved_at: up.flip.at, resolved_by_flip_id: up.flip.id });
    expect(heard[2]!.incident).toEqual({ id: incident!.id, severityState: 'down', downForMs: up.flip.at - down.flip.at });
    expect(heard[2]!.openInTrx).toEqual([]);
    expect((await alertEvents())[1]).toMatchObject({ flip_id: up.flip.id, incident_id: incident!.id, to_state: 'up', severity: 'critical', down_for_ms: 60_000 });
    // The next failure is a new incident, not the old one reopened.
    await move('up', 'down');
    expect((await incidents()).map((i) => i.state)).toEqual(['resolved', 'open']);
  });

  it('pausing a failing monitor resolves its incident and tells alerting; pausing a healthy one does neither', async () => {
    await move('pending', 'up');
    await move('up', 'warning');
    const paused = await move('warning', 'paused');
    expect(paused.alerted).toBe(true);
    const [incident] = await incidents();
    expect(incident).toMatchObject({ state: 'resolved', resolved_by_flip_id: paused.flip.id });
    expect((await alertEvents()).map((e) => [e.to_state, e.severity])).toEqual([
      ['warning', 'warning'],
      ['paused', 'warning'],
    ]);
    await move('paused', 'pending');
    await move('pending', 'up');
    const pausedHealthy = await move('up', 'paused');
    expect(pausedHealthy.alerted).toBe(false);
    expect(await incidents()).toHaveLength(1);
    expect(await alertEvents()).toHaveLength(2);
  });

  it('a flip from a state the monitor is not in is refused, and writes nothing', async () => {
    await move('pending', 'up');
    await expect(move('down', 'up')).rejects.toBeInstanceOf(FlipConflict);
    expect((await monitorRow()).state).toBe('up');
    expect(await flipRows()).toHaveLength(1);
    expect(heard).toHaveLength(1); // the listener is not called for a refused flip
  });
});
