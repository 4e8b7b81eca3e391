/**
 * Machine liveness on every dialect, with the manual clock: a machine silent for longer than its
 * tenant's heartbeat_threshold_minutes goes down through the monitor core (a flip, an incident, a
 * webhook notification through the real router and delivery), once; a later sweep, or a
 * restarted one, does nothing more; the next ingest brings it up (a recovery notification).
 * Thresholds are per tenant and read at each sweep; paused machines and machines in maintenance
 * are skipped; a resumed machine gets a full threshold from its resume.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMachineLiveness } from '../src/metrics/liveness.js';
import type { WebhookBody } from '../src/notify/providers/webhook.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { StandIn } from './helpers/receivers.js';

const MIN = 60_000;
type Json = any;

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());

describe.each(TEST_DIALECTS)('machine liveness on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    standIn.reset();
    const closing = ctx;
    ctx = undefined;
    await closing?.close();
  });

  async function start() {
    const c = (ctx = await createTestApp(dialect));
    return tenant(c, 'Acme');
  }

  /** A tenant with grouping off and a webhook channel, and helpers acting as it. */
  async function tenant(c: TestContext, name: string) {
    const { apiKey, tenantId } = await createTenantWithKey(c, 'full', name);
    const headers = { 'x-api-key': apiKey };
    const json = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, status = 200): Promise<Json> => {
      const response = await c.app.inject({ method, url, headers, ...(payload && { payload }) });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
      return response.json();
    };
    await json('PATCH', '/api/v1/settings', { alert_grouping_enabled: false });
    await json('POST', '/api/v1/channels', { name: `hook ${name}`, kind: 'webhook', config: { url: `${standIn.base}/hook-${name}` } }, 201);
    return {
      c,
      tenantId,
      json,
      ingest: async (hostname: string): Promise<string> => {
        const response = await c.app.inject({
          method: 'POST',
          url: '/api/v1/ingest/metrics',
          headers: { ...headers, 'x-ingest-id': randomUUID() },
          payload: { machine: { hostname }, metrics: [{ name: 'cpu', type: 'numeric', value: 0.1 }] },
        });
        expect(response.statusCode, response.body).toBe(200);
        return response.json().machine_id;
      },
      status: async (machineId: string): Promise<string> => (await json('GET', `/api/v1/machines/${machineId}`)).status,
      results: async (machineId: string) => (await json('GET', `/api/v1/monitors/${machineId}/results`)).map((r: Json) => `${r.status}: ${r.message}`).reverse(),
      sweep: () => c.services.machineLiveness.run(),
      /** Routes alert events and delivers; returns the webhook items sent, as "host from→to (reason)". */
      notify: async (): Promise<string[]> => {
        await c.services.alertRouter.routeBatch();
        await c.services.delivery.deliverDue();
        const items = standIn.recorded.flatMap((r) => (JSON.parse(r.body) as WebhookBody).items);
        standIn.reset();
        return items.map((i) => `${i.monitor_name} (${i.monitor_kind}) ${i.from_state}→${i.to_state}: ${i.reason}`);
      },
    };
  }

  it('down after the threshold of silence, with a notification, once; up again on the next ingest', async () => {
    const t = await start();
    const id = await t.ingest('web-01');
    expect(await t.notify()).toEqual([]); // pending → up is not an alert
    expect(await t.status(id)).toBe('up');

    t.c.clock.advance(5 * MIN); // exactly the threshold (5 minutes by default): not yet
    expect(await t.sweep()).toBe(0);
    expect(await t.status(id)).toBe('up');

    t.c.clock.advance(2 * MIN);
    expect(await t.sweep()).toBe(1);
    expect(await t.status(id)).toBe('down');
    expect(await t.notify()).toEqual(['web-01 (machine) up→down: no metrics for 7 minutes']);
    const [incident] = await t.json('GET', `/api/v1/incidents?monitor=${id}`);
    expect(incident).toMatchObject({ monitor_id: id, state: 'open', reason: 'no metrics for 7 minutes' });

    // Not twice: later sweeps, and a sweep of a restarted process, find nothing to do.
    t.c.clock.advance(10 * MIN);
    expect(await t.sweep()).toBe(0);
    expect(await createMachineLiveness({ db: t.c.database.db, clock: t.c.clock, recorder: t.c.services.recorder }).run()).toBe(0);
    expect(await t.notify()).toEqual([]);
    expect(await t.results(id)).toEqual(['up: metrics received', 'down: no metrics for 7 minutes']);

    await t.ingest('web-01');
    expect(await t.status(id)).toBe('up');
    expect(await t.notify()).toEqual(['web-01 (machine) down→up: metrics received']);
    expect((await t.json('GET', `/api/v1/incidents/${incident.id}`)).state).toBe('resolved');
    // Further batches of an up machine change nothing, but are its history (each batch is one entry).
    await t.ingest('web-01');
    expect(await t.results(id)).toEqual(['up: metrics received', 'down: no metrics for 7 minutes', 'up: metrics received', 'up: metrics received']);
    expect(await t.status(id)).toBe('up');
  });

  it("each tenant's threshold applies, as it is at each sweep", async () => {
    const a = await start();
    const b = await tenant(a.c, 'Globex');
    await b.json('PATCH', '/api/v1/settings', { heartbeat_threshold_minutes: 10 });
    const [idA, idB] = [await a.ingest('app-01'), await b.ingest('app-01')];

    a.c.clock.advance(7 * MIN);
    expect(await a.sweep()).toBe(1);
    expect([await a.status(idA), await b.status(idB)]).toEqual(['down', 'up']);

    a.c.clock.advance(4 * MIN);
    expect(await a.sweep()).toBe(1);
    expect(await b.status(idB)).toBe('down');
    expect(await b.results(idB)).toEqual(['up: metrics received', 'down: no metrics for 11 minutes']);

    // Raised while a machine is silent: it stays up until the new threshold.
    await a.ingest('app-01');
    await a.json('PATCH', '/api/v1/settings', { heartbeat_threshold_minutes: 30 });
    a.c.clock.advance(20 * MIN);
    expect(await a.sweep()).toBe(0);
    expect(await a.status(idA)).toBe('up');
    // Lowered: it applies at the next sweep.
    await a.json('PATCH', '/api/v1/settings', { heartbeat_threshold_minutes: 15 });
    expect(await a.sweep()).toBe(1);
    expect(await a.status(idA)).toBe('down');
  });

  it('skips paused machines and machines in maintenance; a resumed machine gets a whole threshold from its resume', async () => {
    const t = await start();
    const paused = await t.ingest('paused-01');
    const serviced = await t.ingest('serviced-01');
    await t.json('POST', `/api/v1/monitors/${paused}/pause`);
    await t.c.services.recorder.setState(serviced, 'maintenance', 'kernel upgrade');

    t.c.clock.advance(30 * MIN);
    expect(await t.sweep()).toBe(0);
    expect([await t.status(paused), await t.status(serviced)]).toEqual(['paused', 'maintenance']);
    // A batch from a paused machine is stored, and leaves it paused.
    await t.ingest('paused-01');
    expect(await t.status(paused)).toBe('paused');

    t.c.clock.advance(30 * MIN);
    await t.json('POST', `/api/v1/monitors/${paused}/resume`);
    expect(await t.status(paused)).toBe('pending');
    t.c.clock.advance(4 * MIN);
    expect(await t.sweep()).toBe(0);
    t.c.clock.advance(2 * MIN);
    expect(await t.sweep()).toBe(1);
    expect(await t.status(paused)).toBe('down');
    expect((await t.results(paused)).at(-1)).toBe('down: no metrics for 36 minutes');
    expect(await t.status(serviced)).toBe('maintenance');
  });

  it('many silent machines go down in one sweep', async () => {
    const t = await start();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await t.ingest(`node-${String(i).padStart(2, '0')}`));
    t.c.clock.advance(6 * MIN);
    await t.ingest('node-03'); // just heard from: stays up
    expect(await t.sweep()).toBe(11);
    const page = await t.json('GET', '/api/v1/machines?status=down&limit=500');
    expect(page.total).toBe(11);
    expect(page.items.map((m: Json) => m.hostname)).not.toContain('node-03');
    expect((await t.notify()).length).toBe(11);
  });
});
